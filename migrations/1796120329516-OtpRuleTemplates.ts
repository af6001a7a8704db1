import { MigrationInterface, QueryRunner } from "typeorm";

/** A rule names a template per channel; default rule templates that say what the code is for. */

export class OtpRuleTemplates1796120329516 implements MigrationInterface {
    name = 'OtpRuleTemplates1796120329516'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "otp_rules" ADD "sms_template_id" character varying(64)`);
        await queryRunner.query(`ALTER TABLE "otp_rules" ADD "whatsapp_template_id" character varying(64)`);
        await queryRunner.query(
            `INSERT INTO "message_templates" ("id", "channel", "subject", "body", "html_body") VALUES
             ('otp_rule_email', 'EMAIL', $1, $2, $3),
             ('otp_rule_sms', 'SMS', NULL, $4, NULL)
             ON CONFLICT ("id") DO NOTHING`,
            [
                'Your code to change {{record.module}} {{record.label}}',
                'Your code to change {{record.module}} {{record.label}}{{#if change}} {{change}}{{/if}} is {{otp}}. It expires in {{expiresInMinutes}} minutes. If you did not ask for this change, do not share the code and ignore this message.',
                '<p>Your code to change {{record.module}} {{record.label}}{{#if change}} {{change}}{{/if}} is <strong>{{otp}}</strong>.</p><p>It expires in {{expiresInMinutes}} minutes. If you did not ask for this change, do not share the code and ignore this message.</p>',
                '{{otp}} is your code to change {{record.module}} {{record.label}}{{#if change}} {{change}}{{/if}}. It expires in {{expiresInMinutes}} minutes. Do not share it.',
            ],
        );
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DELETE FROM "message_templates" WHERE "id" IN ('otp_rule_email', 'otp_rule_sms')`);
        await queryRunner.query(`ALTER TABLE "otp_rules" DROP COLUMN "whatsapp_template_id"`);
        await queryRunner.query(`ALTER TABLE "otp_rules" DROP COLUMN "sms_template_id"`);
    }

}
