import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Connections v2 (issue 13): a merged record points at the record it was merged into (`records.merged_into`); a
 * connection type may declare a context module, and its connections may carry a context record.
 */
export class ConnectionsMergeContext1796132743743 implements MigrationInterface {
    name = 'ConnectionsMergeContext1796132743743'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "records" ADD "merged_into" uuid`);
        await queryRunner.query(`ALTER TABLE "records" ADD CONSTRAINT "FK_records_merged_into" FOREIGN KEY ("merged_into") REFERENCES "records"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "connection_types" ADD "context_module" character varying(32)`);
        await queryRunner.query(`ALTER TABLE "connections" ADD "context_record_id" uuid`);
        await queryRunner.query(`ALTER TABLE "connections" ADD CONSTRAINT "FK_connections_context_record" FOREIGN KEY ("context_record_id") REFERENCES "records"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "connections" DROP CONSTRAINT "FK_connections_context_record"`);
        await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "context_record_id"`);
        await queryRunner.query(`ALTER TABLE "connection_types" DROP COLUMN "context_module"`);
        await queryRunner.query(`ALTER TABLE "records" DROP CONSTRAINT "FK_records_merged_into"`);
        await queryRunner.query(`ALTER TABLE "records" DROP COLUMN "merged_into"`);
    }
}
