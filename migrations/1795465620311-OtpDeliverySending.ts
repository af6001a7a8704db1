import { MigrationInterface, QueryRunner } from "typeorm";

/** Deliveries are marked SENDING during the provider call; a small partial index keeps the sweep for interrupted calls cheap. */

export class OtpDeliverySending1795465620311 implements MigrationInterface {
    name = 'OtpDeliverySending1795465620311'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_otp_deliveries_sending" ON "otp_deliveries" ("updated_at") WHERE "status" = 'SENDING'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_otp_deliveries_sending"`);
    }

}
