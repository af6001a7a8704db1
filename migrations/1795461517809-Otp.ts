import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * OTP requests, their per-channel deliveries, message templates (with the three seeded defaults), and the table
 * rate-limiter-flexible keeps its counters in (shared by every server instance). pg-boss creates its own `pgboss` schema.
 */

export class Otp1795461517809 implements MigrationInterface {
    name = 'Otp1795461517809'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "otp_requests" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "channels" character varying(16) array NOT NULL,
                "mobile" character varying(20),
                "email" character varying(254),
                "email_from_name" character varying(200),
                "email_subject" character varying(500),
                "email_template_id" character varying(64),
                "email_template_attributes" jsonb NOT NULL DEFAULT '{}',
                "source" character varying(64) NOT NULL,
                "type" character varying(32) NOT NULL,
                "code_length" integer NOT NULL,
                "code_type" character varying(16) NOT NULL,
                "code_hash" character(64) NOT NULL,
                "code_sealed" text,
                "code_caller_supplied" boolean NOT NULL DEFAULT false,
                "test_recipient" boolean NOT NULL DEFAULT false,
                "status" character varying(24) NOT NULL DEFAULT 'PENDING',
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "attempts" integer NOT NULL DEFAULT '0',
                "max_attempts" integer NOT NULL,
                "send_count" integer NOT NULL DEFAULT '1',
                "max_resends" integer NOT NULL,
                "resend_cooldown_seconds" integer NOT NULL,
                "resend_mode" character varying(24) NOT NULL,
                "validity_seconds" integer NOT NULL,
                "last_sent_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "rule_id" integer,
                "record_id" uuid,
                "user_id" uuid NOT NULL,
                "api_key_id" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "verified_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_265771409bf4605d16150e2d045" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_requests_created" ON "otp_requests" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_requests_email_source" ON "otp_requests" ("email", "source", "created_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_requests_mobile_source" ON "otp_requests" ("mobile", "source", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "otp_deliveries" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "otp_request_id" uuid NOT NULL,
                "channel" character varying(16) NOT NULL,
                "recipient" character varying(254) NOT NULL,
                "status" character varying(16) NOT NULL DEFAULT 'QUEUED',
                "provider" character varying(32) NOT NULL,
                "provider_message_id" character varying(255),
                "error" text,
                "attempts" integer NOT NULL DEFAULT '0',
                "code_sealed" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "sent_at" TIMESTAMP WITH TIME ZONE,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                "failed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_2ba10f33cf37f4a05e9347c6f64" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_deliveries_provider_message" ON "otp_deliveries" ("provider", "provider_message_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_deliveries_request" ON "otp_deliveries" ("otp_request_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "message_templates" (
                "id" character varying(64) NOT NULL,
                "channel" character varying(16) NOT NULL,
                "subject" character varying(500),
                "body" text NOT NULL,
                "html_body" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_9ac2bd9635be662d183f314947d" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_requests"
            ADD CONSTRAINT "FK_9f8c89a6a534a0181e988b48fed" FOREIGN KEY ("record_id") REFERENCES "records"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_requests"
            ADD CONSTRAINT "FK_e1b080b079b545c15b7cbca74e7" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_requests"
            ADD CONSTRAINT "FK_c3e499ec4b82b66f18799609715" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_deliveries"
            ADD CONSTRAINT "FK_1e3fae44611e318774e1802511a" FOREIGN KEY ("otp_request_id") REFERENCES "otp_requests"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            CREATE TABLE "otp_rate_limits" (
                "key" character varying(255) PRIMARY KEY,
                "points" integer NOT NULL DEFAULT 0,
                "expire" bigint
            )
        `);
        await queryRunner.query(
            `INSERT INTO "message_templates" ("id", "channel", "subject", "body", "html_body") VALUES
             ('otp_email', 'EMAIL', 'Your verification code', $1, $2),
             ('otp_sms', 'SMS', NULL, $3, NULL),
             ('otp_whatsapp', 'WHATSAPP', NULL, $4, NULL)`,
            [
                'Your verification code is {{otp}}. It expires in {{expiresInMinutes}} minutes. If you did not ask for it, ignore this message.',
                '<p>Your verification code is <strong>{{otp}}</strong>.</p><p>It expires in {{expiresInMinutes}} minutes. If you did not ask for it, ignore this message.</p>',
                '{{otp}} is your verification code. It expires in {{expiresInMinutes}} minutes. Do not share it with anyone.',
                '{{otp}} is your verification code. For your security, do not share this code.',
            ],
        );
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "otp_rate_limits"`);
        await queryRunner.query(`ALTER TABLE "otp_deliveries" DROP CONSTRAINT "FK_1e3fae44611e318774e1802511a"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP CONSTRAINT "FK_c3e499ec4b82b66f18799609715"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP CONSTRAINT "FK_e1b080b079b545c15b7cbca74e7"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP CONSTRAINT "FK_9f8c89a6a534a0181e988b48fed"`);
        await queryRunner.query(`DROP TABLE "message_templates"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_deliveries_request"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_deliveries_provider_message"`);
        await queryRunner.query(`DROP TABLE "otp_deliveries"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_requests_mobile_source"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_requests_email_source"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_requests_created"`);
        await queryRunner.query(`DROP TABLE "otp_requests"`);
    }

}
