import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A merge repoints the connections that name a merged record as their context record and the records merged into it
 * earlier: without these (partial) indexes both were sequential scans, which at 10^6 connections made a merge take
 * seconds (bench: mergeRecords after the 10^6 seed, 2026-12-01).
 */
export class MergeLookupIndexes1796137143831 implements MigrationInterface {
    name = 'MergeLookupIndexes1796137143831'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_connections_context_record" ON "connections" ("context_record_id") WHERE "context_record_id" IS NOT NULL`);
        await queryRunner.query(`CREATE INDEX "IDX_records_merged_into" ON "records" ("merged_into") WHERE "merged_into" IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_records_merged_into"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_connections_context_record"`);
    }
}
