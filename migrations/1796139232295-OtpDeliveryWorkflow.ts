import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Channel fallback (issue 12 item 4): a workflow's later steps are deliveries written at send time as SCHEDULED, with
 * the time they are due and their step in the workflow (0 is the first, sent at once).
 */
export class OtpDeliveryWorkflow1796139232295 implements MigrationInterface {
    name = 'OtpDeliveryWorkflow1796139232295'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_deliveries" ADD "scheduled_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "otp_deliveries" ADD "workflow_step" smallint`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_deliveries" DROP COLUMN "workflow_step"`);
        await queryRunner.query(`ALTER TABLE "otp_deliveries" DROP COLUMN "scheduled_at"`);
    }
}
