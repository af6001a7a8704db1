import { MigrationInterface, QueryRunner } from "typeorm";

/** Who issued an OTP (only rule-issued ones satisfy a guard), what change it was sent for, and per-channel templates. */

export class OtpPurpose1795700000000 implements MigrationInterface {
    name = 'OtpPurpose1795700000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "issued_by" character varying(8) NOT NULL DEFAULT 'API'`);
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "intended_fields" jsonb`);
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "sms_template_id" character varying(64)`);
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "whatsapp_template_id" character varying(64)`);
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "message_variables" jsonb NOT NULL DEFAULT '{}'`);
        // OTPs sent before this migration stay 'API': which of them a rule issued cannot be told apart safely
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "message_variables"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "whatsapp_template_id"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "sms_template_id"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "intended_fields"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "issued_by"`);
    }

}
