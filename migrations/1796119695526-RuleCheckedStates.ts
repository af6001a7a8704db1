import { MigrationInterface, QueryRunner } from "typeorm";

/** OTP rules: the last checked state of closed records (closed-record detour), and the lock end of wrong-OTP counts. */

export class RuleCheckedStates1796119695526 implements MigrationInterface {
    name = 'RuleCheckedStates1796119695526'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "otp_rule_checked_states" (
                "record_id" uuid NOT NULL,
                "fields" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_a7a7333c6f043d8b30e4df9ff5f" PRIMARY KEY ("record_id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_rule_validation_failures"
            ADD "locked_until" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_rule_checked_states"
            ADD CONSTRAINT "FK_a7a7333c6f043d8b30e4df9ff5f" FOREIGN KEY ("record_id") REFERENCES "records"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "otp_rule_checked_states" DROP CONSTRAINT "FK_a7a7333c6f043d8b30e4df9ff5f"
        `);
        await queryRunner.query(`
            ALTER TABLE "otp_rule_validation_failures" DROP COLUMN "locked_until"
        `);
        await queryRunner.query(`
            DROP TABLE "otp_rule_checked_states"
        `);
    }

}
