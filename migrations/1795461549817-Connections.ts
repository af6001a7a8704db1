import { MigrationInterface, QueryRunner } from "typeorm";

/** Connection types (with the eight system defaults of SPEC §7) and connections, kept duplicate-free by an exclusion constraint. */

const CONTACTS = ['Contacts'];
const ORGANIZATIONS = ['Organizations'];

/** [id, name, inverse name, symmetric, source modules, target modules] */
const SYSTEM_TYPES: Array<[string, string, string, boolean, string[], string[]]> = [
    ['00000000-0000-4000-8100-000000000001', 'parent of', 'child of', false, CONTACTS, CONTACTS],
    ['00000000-0000-4000-8100-000000000002', 'spouse', 'spouse', true, CONTACTS, CONTACTS],
    ['00000000-0000-4000-8100-000000000003', 'reports to', 'manager of', false, CONTACTS, CONTACTS],
    ['00000000-0000-4000-8100-000000000004', 'knows', 'knows', true, CONTACTS, CONTACTS],
    ['00000000-0000-4000-8100-000000000005', 'previously worked at', 'previously employed', false, CONTACTS, ORGANIZATIONS],
    ['00000000-0000-4000-8100-000000000006', 'is working at', 'employs', false, CONTACTS, ORGANIZATIONS],
    ['00000000-0000-4000-8100-000000000007', 'board member of', 'has board member', false, CONTACTS, ORGANIZATIONS],
    ['00000000-0000-4000-8100-000000000008', 'consultant at', 'has consultant', false, CONTACTS, ORGANIZATIONS],
];

export class Connections1795461549817 implements MigrationInterface {
    name = 'Connections1795461549817'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // uuid equality inside a GiST exclusion constraint needs btree_gist
        await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
        await queryRunner.query(`
            CREATE TABLE "connection_types" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "name" character varying(100) NOT NULL,
                "inverse_name" character varying(100) NOT NULL,
                "symmetric" boolean NOT NULL DEFAULT false,
                "source_modules" character varying(32) array NOT NULL,
                "target_modules" character varying(32) array NOT NULL,
                "allow_self" boolean NOT NULL DEFAULT false,
                "properties" jsonb NOT NULL DEFAULT '[]',
                "active" boolean NOT NULL DEFAULT true,
                "is_system" boolean NOT NULL DEFAULT false,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_c67973f03ee6fbb3e2470bcb916" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "connections" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "type_id" uuid NOT NULL,
                "source_id" uuid NOT NULL,
                "target_id" uuid NOT NULL,
                "symmetric" boolean NOT NULL DEFAULT false,
                "start_date" date,
                "end_date" date,
                "properties" jsonb NOT NULL DEFAULT '{}',
                "notes" character varying(2000),
                "acknowledged_issues" character varying(32) array NOT NULL DEFAULT '{}',
                "created_by" uuid NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "CHK_connections_dates" CHECK (
                    "start_date" IS NULL
                    OR "end_date" IS NULL
                    OR "start_date" <= "end_date"
                ),
                CONSTRAINT "EX_connections_no_overlap" EXCLUDE USING gist (
                    "type_id" WITH =,
                    (
                        CASE
                            WHEN "symmetric" THEN LEAST("source_id", "target_id")
                            ELSE "source_id"
                        END
                    ) WITH =,
                    (
                        CASE
                            WHEN "symmetric" THEN GREATEST("source_id", "target_id")
                            ELSE "target_id"
                        END
                    ) WITH =,
                    daterange(
                        COALESCE("start_date", '-infinity'::date),
                        COALESCE("end_date", 'infinity'::date),
                        '[]'
                    ) WITH &&
                ),
                CONSTRAINT "PK_0a1f844af3122354cbd487a8d03" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_connections_target" ON "connections" ("target_id", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_connections_source" ON "connections" ("source_id", "created_at", "id")
        `);
        await queryRunner.query(`
            ALTER TABLE "connections"
            ADD CONSTRAINT "FK_aa54548a1aaf7a8a308abad76b1" FOREIGN KEY ("type_id") REFERENCES "connection_types"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "connections"
            ADD CONSTRAINT "FK_052d80e28a188b02b90fdffa96b" FOREIGN KEY ("source_id") REFERENCES "records"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "connections"
            ADD CONSTRAINT "FK_2d0b44dd7b0cde68d153ca01f1e" FOREIGN KEY ("target_id") REFERENCES "records"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "connections"
            ADD CONSTRAINT "FK_7d27ab26e45f175b71c15f9150c" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
        for (const [id, name, inverseName, symmetric, sourceModules, targetModules] of SYSTEM_TYPES) {
            await queryRunner.query(
                `INSERT INTO "connection_types" ("id", "name", "inverse_name", "symmetric", "source_modules", "target_modules", "is_system")
                 VALUES ($1, $2, $3, $4, $5, $6, true)`,
                [id, name, inverseName, symmetric, sourceModules, targetModules],
            );
        }
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "connections" DROP CONSTRAINT "FK_7d27ab26e45f175b71c15f9150c"
        `);
        await queryRunner.query(`
            ALTER TABLE "connections" DROP CONSTRAINT "FK_2d0b44dd7b0cde68d153ca01f1e"
        `);
        await queryRunner.query(`
            ALTER TABLE "connections" DROP CONSTRAINT "FK_052d80e28a188b02b90fdffa96b"
        `);
        await queryRunner.query(`
            ALTER TABLE "connections" DROP CONSTRAINT "FK_aa54548a1aaf7a8a308abad76b1"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_connections_source"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_connections_target"
        `);
        await queryRunner.query(`
            DROP TABLE "connections"
        `);
        await queryRunner.query(`
            DROP TABLE "connection_types"
        `);
        // btree_gist stays: other tables may use it, and dropping an extension needs more rights than creating one
    }

}
