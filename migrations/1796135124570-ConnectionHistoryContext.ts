import { MigrationInterface, QueryRunner } from "typeorm";

const values = (withContext: boolean) => `
CREATE OR REPLACE FUNCTION connection_history_values(c connections) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('typeId', c.type_id, 'sourceId', c.source_id, 'targetId', c.target_id, 'symmetric', c.symmetric,
    'startDate', c.start_date, 'endDate', c.end_date, 'properties', c.properties, 'notes', c.notes,${withContext ? `
    'contextRecordId', c.context_record_id,` : ''}
    'createdBy', c.created_by, 'createdAt', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$`;

/**
 * Connection history and context records landed together (issue 13): a connection's history values carry its context
 * record too, so a change of it is recorded and `asOf` lists show the context record of that day.
 */
export class ConnectionHistoryContext1796135124570 implements MigrationInterface {
    name = 'ConnectionHistoryContext1796135124570'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(values(true));
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(values(false));
    }
}
