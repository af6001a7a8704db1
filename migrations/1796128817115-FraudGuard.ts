import { MigrationInterface, QueryRunner } from "typeorm";

/** The fraud guard: its event log (prefix counters, blocked sends, conversion), prefix blocks, geo permissions and safe list. */

export class FraudGuard1796128817115 implements MigrationInterface {
    name = 'FraudGuard1796128817115'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "fraud_events" (
                "id" BIGSERIAL NOT NULL,
                "kind" character varying(16) NOT NULL,
                "reason" character varying(32),
                "monitored" boolean NOT NULL DEFAULT false,
                "prefix" character varying(16),
                "country" character varying(2),
                "number_type" character varying(24),
                "masked_number" character varying(32),
                "channels" character varying(16) array NOT NULL,
                "source" character varying(64) NOT NULL,
                "rule_id" integer,
                "otp_request_id" uuid,
                "api_key_id" uuid,
                "user_id" uuid,
                "detail" character varying(300),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_5c6f891fcd7bafcc57f8363dcc4" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_fraud_events_kind_created" ON "fraud_events" ("kind", "created_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_fraud_events_prefix_created" ON "fraud_events" ("prefix", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "fraud_prefix_blocks" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "prefix" character varying(16) NOT NULL,
                "country" character varying(2),
                "level" integer NOT NULL,
                "reason" character varying(300) NOT NULL,
                "sends" integer NOT NULL,
                "verified" integer NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "lifted_at" TIMESTAMP WITH TIME ZONE,
                "lifted_by" uuid,
                CONSTRAINT "PK_c9dbd1650f1bfd71cce1eb23aec" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_fraud_prefix_blocks_prefix_expires" ON "fraud_prefix_blocks" ("prefix", "expires_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "fraud_geo_permissions" (
                "country" character varying(2) NOT NULL,
                "action" character varying(8) NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_by" uuid,
                CONSTRAINT "PK_6cb818218ae85ccfefa290a9544" PRIMARY KEY ("country")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "fraud_safe_list" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "kind" character varying(8) NOT NULL,
                "value" character varying(16) NOT NULL,
                "note" character varying(200),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "created_by" uuid,
                CONSTRAINT "PK_409c554e09448ff46fc82a28541" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "UQ_fraud_safe_list_value" ON "fraud_safe_list" ("value")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."UQ_fraud_safe_list_value"
        `);
        await queryRunner.query(`
            DROP TABLE "fraud_safe_list"
        `);
        await queryRunner.query(`
            DROP TABLE "fraud_geo_permissions"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_fraud_prefix_blocks_prefix_expires"
        `);
        await queryRunner.query(`
            DROP TABLE "fraud_prefix_blocks"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_fraud_events_prefix_created"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_fraud_events_kind_created"
        `);
        await queryRunner.query(`
            DROP TABLE "fraud_events"
        `);
    }

}
