import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Idempotency keys per caller (issue 12.6; src/idempotency) and provider status callbacks that arrive before the
 * worker recorded the provider's message id (issue 12.5; src/otp/delivery/early-statuses.ts).
 */

export class IdempotencyKeysAndEarlyProviderStatuses1796130313113 implements MigrationInterface {
    name = 'IdempotencyKeysAndEarlyProviderStatuses1796130313113'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "idempotency_keys" (
                "scope" character varying(80) NOT NULL,
                "key" character varying(255) NOT NULL,
                "payload_hash" character varying(64) NOT NULL,
                "state" character varying(16) NOT NULL,
                "lock_token" uuid,
                "locked_until" TIMESTAMP WITH TIME ZONE,
                "answer" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_15de2f76fa9f27ad8f330983607" PRIMARY KEY ("scope", "key")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_idempotency_keys_expires" ON "idempotency_keys" ("expires_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "otp_early_provider_statuses" (
                "provider" character varying(32) NOT NULL,
                "message_id" character varying(255) NOT NULL,
                "status" character varying(16) NOT NULL,
                "error" text,
                "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_5030c7e2fe9e032de9cdbac0681" PRIMARY KEY ("provider", "message_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_otp_early_provider_statuses_expires" ON "otp_early_provider_statuses" ("expires_at")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."IDX_otp_early_provider_statuses_expires"
        `);
        await queryRunner.query(`
            DROP TABLE "otp_early_provider_statuses"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_idempotency_keys_expires"
        `);
        await queryRunner.query(`
            DROP TABLE "idempotency_keys"
        `);
    }

}
