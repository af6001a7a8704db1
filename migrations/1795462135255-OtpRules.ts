import { MigrationInterface, QueryRunner } from "typeorm";

/** OTP rules and their per-record validation failures. */

export class OtpRules1795462135255 implements MigrationInterface {
    name = 'OtpRules1795462135255'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "otp_rules" (
                "id" SERIAL NOT NULL,
                "name" character varying(100) NOT NULL,
                "sanitized_key" character varying(100) NOT NULL,
                "module" character varying(32) NOT NULL,
                "description" text NOT NULL DEFAULT '',
                "active" boolean NOT NULL DEFAULT true,
                "applicable_profiles" character varying(64) array NOT NULL DEFAULT '{}',
                "allow_closed_records" boolean NOT NULL DEFAULT false,
                "conditions" jsonb NOT NULL DEFAULT '[]',
                "code_type" character varying(16) NOT NULL DEFAULT 'NUMERIC',
                "code_length" integer NOT NULL DEFAULT '6',
                "valid_for_seconds" integer NOT NULL DEFAULT '600',
                "resend_mode" character varying(24) NOT NULL DEFAULT 'NEW_CODE',
                "max_resend_attempts" integer NOT NULL DEFAULT '5',
                "reset_resend_after_seconds" integer NOT NULL DEFAULT '3600',
                "max_validation_attempts" integer NOT NULL DEFAULT '5',
                "reset_validation_after_seconds" integer NOT NULL DEFAULT '900',
                "channels" character varying(16) array NOT NULL DEFAULT '{SMS}',
                "recipient_field" character varying(64),
                "email_template_id" character varying(64),
                "auto_send_on_match" boolean NOT NULL DEFAULT false,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_e62b83352cd3d49373e8f89676e" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_otp_rules_name" ON "otp_rules" ("name")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_otp_rules_sanitized_key" ON "otp_rules" ("sanitized_key")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_rules_module_active" ON "otp_rules" ("module", "active")
        `);
        await queryRunner.query(`
            CREATE TABLE "otp_rule_validation_failures" (
                "rule_id" integer NOT NULL,
                "record_id" uuid NOT NULL,
                "failures" integer NOT NULL DEFAULT '0',
                "window_started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_340ca6c2aeebc8947b64035a3c3" PRIMARY KEY ("rule_id", "record_id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_rule_validation_failures"
            ADD CONSTRAINT "FK_9d03ad5c522708ef0eb1bea61ee" FOREIGN KEY ("rule_id") REFERENCES "otp_rules"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_rule_validation_failures"
            ADD CONSTRAINT "FK_dcd3c8ec49007a739fa27559e73" FOREIGN KEY ("record_id") REFERENCES "records"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "otp_rule_validation_failures" DROP CONSTRAINT "FK_dcd3c8ec49007a739fa27559e73"
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_rule_validation_failures" DROP CONSTRAINT "FK_9d03ad5c522708ef0eb1bea61ee"
        `);
        await queryRunner.query(`
            DROP TABLE "otp_rule_validation_failures"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_otp_rules_module_active"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."UQ_otp_rules_sanitized_key"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."UQ_otp_rules_name"
        `);
        await queryRunner.query(`
            DROP TABLE "otp_rules"
        `);
    }

}
