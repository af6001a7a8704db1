import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The admin lists are keyset-paginated: each reads its rows in index order. otpRules (by id), users (by email) and
 * messageTemplates (by id) already have theirs; apiKeys (newest first, all or of one user) and connectionTypes (system
 * types first, then by lower-cased name) get one here. The connection types' index is an expression index, declared
 * on the entity with `synchronize: false`.
 */
export class AdminListIndexes1796129170812 implements MigrationInterface {
    name = 'AdminListIndexes1796129170812'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_api_keys_created" ON "api_keys" ("created_at", "id") `);
        await queryRunner.query(`CREATE INDEX "IDX_api_keys_user_created" ON "api_keys" ("user_id", "created_at", "id") `);
        await queryRunner.query(`CREATE INDEX "IDX_connection_types_listing" ON "connection_types" ((NOT "is_system"), lower("name"), "id")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_connection_types_listing"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_api_keys_user_created"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_api_keys_created"`);
    }
}
