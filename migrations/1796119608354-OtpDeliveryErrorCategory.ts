import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Deliveries keep the full failure reason in `error` (for operators) and a category for clients. Existing failures
 * get the category their recorded reason shows.
 */

export class OtpDeliveryErrorCategory1796119608354 implements MigrationInterface {
    name = 'OtpDeliveryErrorCategory1796119608354'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_deliveries" ADD "error_category" character varying(32)`);
        await queryRunner.query(`UPDATE "otp_deliveries" SET "error_category" = CASE
            WHEN "error" LIKE 'The server stopped during the provider call%' THEN 'INTERRUPTED'
            WHEN "error" LIKE 'The OTP request was no longer pending%' THEN 'REQUEST_CLOSED'
            WHEN "error" LIKE 'The message template%' THEN 'TEMPLATE_ERROR'
            WHEN "error" LIKE '%(timeout)%' OR "error" ILIKE '%timed out%' OR "error" ILIKE '%timeout%' OR "error" LIKE 'Greeting never received%' THEN 'TIMEOUT'
            WHEN "error" LIKE 'The provider could not be reached%' OR "error" ~ '(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH)' THEN 'PROVIDER_UNREACHABLE'
            WHEN "error" LIKE 'Twilio reported%' OR "error" LIKE 'WhatsApp reported%' THEN 'UNDELIVERED'
            WHEN "error" LIKE 'Twilio answered%' OR "error" LIKE 'WhatsApp Cloud answered%' THEN 'PROVIDER_REJECTED'
            ELSE 'INTERNAL' END
          WHERE "error" IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_deliveries" DROP COLUMN "error_category"`);
    }

}
