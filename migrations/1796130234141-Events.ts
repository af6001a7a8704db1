import { MigrationInterface, QueryRunner } from "typeorm";

/** Domain events: the outbox, webhook endpoints (sealed secrets), their deliveries and the attempt log (docs/events.md). */
export class Events1796130234141 implements MigrationInterface {
    name = 'Events1796130234141'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "event_outbox" (
                "id" BIGSERIAL NOT NULL,
                "event_id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "type" character varying(64) NOT NULL,
                "subject" character varying(200) NOT NULL,
                "data" jsonb NOT NULL,
                "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "fanned_out_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_c8bd4a6797caa3ebad9b40c9813" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "IDX_event_outbox_event_id" ON "event_outbox" ("event_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_event_outbox_pending" ON "event_outbox" ("id")
            WHERE "fanned_out_at" IS NULL
        `);
        await queryRunner.query(`
            CREATE TABLE "webhook_endpoints" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "url" text NOT NULL,
                "description" character varying(200),
                "event_types" text array NOT NULL DEFAULT '{}',
                "active" boolean NOT NULL DEFAULT true,
                "secret_sealed" text NOT NULL,
                "failing_since" TIMESTAMP WITH TIME ZONE,
                "disabled_reason" text,
                "disabled_at" TIMESTAMP WITH TIME ZONE,
                "created_by" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_054c4cfb95223732f5939d2d546" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "webhook_deliveries" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "seq" BIGSERIAL NOT NULL,
                "endpoint_id" uuid NOT NULL,
                "event_id" uuid NOT NULL,
                "event_type" character varying(64) NOT NULL,
                "subject" character varying(200) NOT NULL,
                "body" text NOT NULL,
                "status" character varying(16) NOT NULL DEFAULT 'PENDING',
                "attempts" integer NOT NULL DEFAULT '0',
                "next_attempt_at" TIMESTAMP WITH TIME ZONE,
                "last_response_code" integer,
                "last_duration_ms" integer,
                "last_error" text,
                "replay_of" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "completed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_webhook_deliveries_subject" ON "webhook_deliveries" ("endpoint_id", "subject", "seq")
            WHERE "status" = 'PENDING'
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at")
            WHERE "status" = 'PENDING'
        `);
        await queryRunner.query(`
            CREATE TABLE "webhook_delivery_attempts" (
                "id" BIGSERIAL NOT NULL,
                "delivery_id" uuid NOT NULL,
                "attempt" integer NOT NULL,
                "succeeded" boolean NOT NULL,
                "response_code" integer,
                "duration_ms" integer NOT NULL,
                "error" text,
                "attempted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_59ef9124585b56c18b98548a0c6" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_webhook_delivery_attempts_delivery" ON "webhook_delivery_attempts" ("delivery_id", "attempt")
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries"
            ADD CONSTRAINT "FK_0b882c26a9b91c26e6e86b4867c" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_delivery_attempts"
            ADD CONSTRAINT "FK_647916c401c0c275df5f00c148f" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "webhook_delivery_attempts" DROP CONSTRAINT "FK_647916c401c0c275df5f00c148f"
        `);
        await queryRunner.query(`
            ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "FK_0b882c26a9b91c26e6e86b4867c"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_webhook_delivery_attempts_delivery"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_delivery_attempts"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_webhook_deliveries_due"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_webhook_deliveries_subject"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_webhook_deliveries_endpoint"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_deliveries"
        `);
        await queryRunner.query(`
            DROP TABLE "webhook_endpoints"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_event_outbox_pending"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_event_outbox_event_id"
        `);
        await queryRunner.query(`
            DROP TABLE "event_outbox"
        `);
    }

}
