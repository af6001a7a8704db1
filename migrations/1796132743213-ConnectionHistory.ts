import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Connection history (issue 13, item 4): one row per create, change and deletion of a connection, written by a row
 * trigger on `connections` in the writer's own transaction — so every writer (the connection service, type
 * policies, integrity repair, record merges, hard deletes cascading) is recorded. The acting user comes from the
 * transaction-local setting `countersign.actor_id` (see src/connections/connection-history.ts). Existing
 * connections get a CREATED row at their creation time. No foreign key to connections: history outlives them.
 */
export class ConnectionHistory1796132743213 implements MigrationInterface {
    name = 'ConnectionHistory1796132743213'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "connection_history" ("id" BIGSERIAL NOT NULL, "connection_id" uuid NOT NULL, "action" character varying(16) NOT NULL, "actor_id" uuid, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "type_id" uuid NOT NULL, "source_id" uuid NOT NULL, "target_id" uuid NOT NULL, "old_values" jsonb, "new_values" jsonb, "changed_fields" text array NOT NULL DEFAULT '{}', CONSTRAINT "PK_connection_history" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_connection_history_connection" ON "connection_history" ("connection_id", "id") `);
        await queryRunner.query(`CREATE INDEX "IDX_connection_history_source" ON "connection_history" ("source_id", "at") `);
        await queryRunner.query(`CREATE INDEX "IDX_connection_history_target" ON "connection_history" ("target_id", "at") `);
        await queryRunner.query(`
CREATE FUNCTION connection_history_values(c connections) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('typeId', c.type_id, 'sourceId', c.source_id, 'targetId', c.target_id, 'symmetric', c.symmetric,
    'startDate', c.start_date, 'endDate', c.end_date, 'properties', c.properties, 'notes', c.notes,
    'createdBy', c.created_by, 'createdAt', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$`);
        await queryRunner.query(`
CREATE FUNCTION connection_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor uuid := NULLIF(current_setting('countersign.actor_id', true), '')::uuid;
  old_v jsonb;
  new_v jsonb;
  changed text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO connection_history (connection_id, action, actor_id, type_id, source_id, target_id, new_values, changed_fields)
    VALUES (NEW.id, 'CREATED', COALESCE(actor, NEW.created_by), NEW.type_id, NEW.source_id, NEW.target_id, connection_history_values(NEW), '{}');
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    old_v := connection_history_values(OLD);
    new_v := connection_history_values(NEW);
    SELECT array_agg(n.key ORDER BY n.key) INTO changed FROM jsonb_each(new_v) n WHERE n.value IS DISTINCT FROM old_v -> n.key;
    IF changed IS NULL THEN RETURN NEW; END IF;
    INSERT INTO connection_history (connection_id, action, actor_id, type_id, source_id, target_id, old_values, new_values, changed_fields)
    VALUES (NEW.id,
      CASE WHEN changed = ARRAY['endDate'] AND NEW.end_date IS NOT NULL AND (OLD.end_date IS NULL OR NEW.end_date < OLD.end_date)
           THEN 'ENDED' ELSE 'UPDATED' END,
      actor, NEW.type_id, NEW.source_id, NEW.target_id, old_v, new_v, changed);
    RETURN NEW;
  ELSE
    INSERT INTO connection_history (connection_id, action, actor_id, type_id, source_id, target_id, old_values, changed_fields)
    VALUES (OLD.id, 'DELETED', actor, OLD.type_id, OLD.source_id, OLD.target_id, connection_history_values(OLD), '{}');
    RETURN OLD;
  END IF;
END
$$`);
        await queryRunner.query(`CREATE TRIGGER "TRG_connections_history" AFTER INSERT OR UPDATE OR DELETE ON "connections" FOR EACH ROW EXECUTE FUNCTION connection_history_record()`);
        await queryRunner.query(`INSERT INTO connection_history (connection_id, action, actor_id, at, type_id, source_id, target_id, new_values, changed_fields)
          SELECT c.id, 'CREATED', c.created_by, c.created_at, c.type_id, c.source_id, c.target_id, connection_history_values(c), '{}' FROM connections c`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "TRG_connections_history" ON "connections"`);
        await queryRunner.query(`DROP FUNCTION connection_history_record()`);
        await queryRunner.query(`DROP FUNCTION connection_history_values(connections)`);
        await queryRunner.query(`DROP TABLE "connection_history"`);
    }
}
