import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * One live OTP per purpose: partial unique indexes over PENDING requests, per (recipient, source, sender) for API sends
 * and per (rule, record) for rule sends, plus why a request was canceled. Rows in the way are settled first: expired
 * PENDING rows become EXPIRED, and of several live ones for a purpose the newest stays live, the others SUPERSEDED.
 */
export class OtpOneLivePerPurpose1796119440418 implements MigrationInterface {
    name = 'OtpOneLivePerPurpose1796119440418'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_requests" ADD "cancel_reason" character varying(24)`);
        await queryRunner.query(`UPDATE "otp_requests" SET "status" = 'EXPIRED', "code_sealed" = NULL WHERE "status" = 'PENDING' AND "expires_at" <= now()`);
        for (const [partition, where] of [
            ['"mobile", "source", "user_id"', `"issued_by" = 'API' AND "mobile" IS NOT NULL`],
            ['"email", "source", "user_id"', `"issued_by" = 'API' AND "email" IS NOT NULL`],
            ['"rule_id", "record_id"', `"issued_by" = 'RULE' AND "rule_id" IS NOT NULL AND "record_id" IS NOT NULL`],
        ]) {
            await queryRunner.query(`UPDATE "otp_requests" o SET "status" = 'CANCELED', "cancel_reason" = 'SUPERSEDED', "code_sealed" = NULL
                FROM (SELECT "id", row_number() OVER (PARTITION BY ${partition} ORDER BY "created_at" DESC, "id" DESC) AS n
                        FROM "otp_requests" WHERE "status" = 'PENDING' AND ${where}) d
               WHERE o."id" = d."id" AND d.n > 1`);
        }
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_otp_requests_live_mobile" ON "otp_requests" ("mobile", "source", "user_id") WHERE status = 'PENDING' AND issued_by = 'API' AND mobile IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_otp_requests_live_email" ON "otp_requests" ("email", "source", "user_id") WHERE status = 'PENDING' AND issued_by = 'API' AND email IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_otp_requests_live_rule" ON "otp_requests" ("rule_id", "record_id") WHERE status = 'PENDING' AND issued_by = 'RULE'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."UQ_otp_requests_live_rule"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_otp_requests_live_email"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_otp_requests_live_mobile"`);
        await queryRunner.query(`ALTER TABLE "otp_requests" DROP COLUMN "cancel_reason"`);
    }

}
