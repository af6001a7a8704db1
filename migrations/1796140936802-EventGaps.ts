import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Closes two gaps of the outbox (docs/events.md): `expiry_unannounced` marks an OTP that a verify or a new send
 * settled EXPIRED before the expiry sweep reached it, so the sweep still publishes its `otp.expired` (the partial index
 * keeps that lookup cheap); `provider_status` keeps the provider's own word of a status callback that came before the
 * message id, for the `otp.delivery.updated` written when it is applied.
 */
export class EventGaps1796140936802 implements MigrationInterface {
    name = 'EventGaps1796140936802'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "expiry_unannounced" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`CREATE INDEX "IDX_otp_requests_expiry_unannounced" ON "otp_requests" ("id") WHERE expiry_unannounced`);
        await queryRunner.query(`ALTER TABLE "otp_early_provider_statuses" ADD "provider_status" character varying(32)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_early_provider_statuses" DROP COLUMN "provider_status"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_requests_expiry_unannounced"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "expiry_unannounced"`);
    }
}
