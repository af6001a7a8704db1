import type { DataSource } from 'typeorm';
import { ErrorCode, UserError, UserErrorException } from '../../core/errors';
import { queryRows } from '../../db/sql';
import { decodeCursor, encodeCursor, type PageSource } from '../../core/pagination';
import type { OtpChannel } from '../otp-request.entity';
import { DEFAULT_TEMPLATE_IDS, toMessageTemplateEntity, type MessageTemplateEntity } from './message-template.entity';
import { printsCode, templateProblem } from './render';

export interface TemplateFields {
  subject?: string | null;
  body?: string | null;
  htmlBody?: string | null;
}

const DEFAULT_IDS: string[] = Object.values(DEFAULT_TEMPLATE_IDS);

/** Admin management of message templates; the three seeded defaults can be edited but not deleted. */
export class MessageTemplateService {
  constructor(private readonly db: DataSource) {}

  /** Templates by id (the primary key orders them), optionally of one channel. */
  async page(filter: { channel?: OtpChannel | null }, first: number, after?: string | null): Promise<PageSource<MessageTemplateEntity>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.channel) where.push(`channel = $${params.push(filter.channel)}`);
    const counted = { where: [...where], params: [...params] };
    if (after) where.push(`id > $${params.push(decodeCursor(after, [(v) => v === 'MessageTemplate', 'text'])[1])}`);
    const clause = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
    const rows = await this.db.query(`SELECT * FROM message_templates ${clause(where)} ORDER BY id LIMIT $${params.push(first + 1)}`, params);
    return {
      rows: rows.map(toMessageTemplateEntity),
      first,
      cursorOf: (template) => encodeCursor(['MessageTemplate', template.id]),
      count: async () => (await this.db.query(`SELECT count(*)::int AS n FROM message_templates ${clause(counted.where)}`, counted.params))[0].n,
    };
  }

  async get(id: string): Promise<MessageTemplateEntity | null> {
    const [row] = await this.db.query('SELECT * FROM message_templates WHERE id = $1', [id]);
    return row ? toMessageTemplateEntity(row) : null;
  }

  async create(input: { id: string; channel: OtpChannel } & TemplateFields): Promise<MessageTemplateEntity> {
    const errors = [...this.fieldErrors(input)];
    if (!/^[a-z0-9][a-z0-9_]{0,63}$/.test(input.id)) {
      errors.push(new UserError(ErrorCode.INVALID, 'A template id is 1-64 lower-case letters, digits and underscores, e.g. overseas_otp.', ['input', 'id']));
    }
    if (!input.body?.trim()) errors.push(new UserError(ErrorCode.REQUIRED, 'A template needs a body.', ['input', 'body']));
    if (errors.length) throw new UserErrorException(errors);
    const rows = await this.db.query(
      `INSERT INTO message_templates (id, channel, subject, body, html_body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING *`,
      [input.id, input.channel, input.subject ?? null, input.body, input.htmlBody ?? null],
    );
    if (!rows[0]) throw UserErrorException.of(ErrorCode.TAKEN, `A template with the id "${input.id}" already exists.`, ['input', 'id']);
    return toMessageTemplateEntity(rows[0]);
  }

  async update(id: string, fields: TemplateFields): Promise<MessageTemplateEntity> {
    const errors = this.fieldErrors(fields);
    if (fields.body !== undefined && !fields.body?.trim()) errors.push(new UserError(ErrorCode.REQUIRED, 'A template needs a body.', ['input', 'body']));
    if (errors.length) throw new UserErrorException(errors);
    const [row] = await queryRows(this.db,
      `UPDATE message_templates
          SET subject = CASE WHEN $2 THEN $3 ELSE subject END, body = COALESCE($4, body),
              html_body = CASE WHEN $5 THEN $6 ELSE html_body END, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, fields.subject !== undefined, fields.subject ?? null, fields.body ?? null, fields.htmlBody !== undefined, fields.htmlBody ?? null],
    );
    if (!row) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No message template has this id.', ['id']);
    return toMessageTemplateEntity(row);
  }

  async delete(id: string): Promise<MessageTemplateEntity> {
    if (DEFAULT_IDS.includes(id)) throw UserErrorException.of(ErrorCode.IN_USE, `"${id}" is a default template; edit it instead.`, ['id']);
    const [row] = await queryRows(this.db, 'DELETE FROM message_templates WHERE id = $1 RETURNING *', [id]);
    if (!row) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No message template has this id.', ['id']);
    return toMessageTemplateEntity(row);
  }

  private fieldErrors(fields: TemplateFields): UserError[] {
    const errors: UserError[] = [];
    for (const key of ['subject', 'body', 'htmlBody'] as const) {
      const text = fields[key];
      if (!text) continue;
      if (text.length > (key === 'subject' ? 500 : 100_000)) {
        errors.push(new UserError(ErrorCode.INVALID, `The ${key} is too long.`, ['input', key]));
        continue;
      }
      const problem = templateProblem(text);
      if (problem) {
        errors.push(new UserError(ErrorCode.INVALID, `The ${key} ${problem}.`, ['input', key]));
        continue;
      }
      // every part a recipient may read carries the code (the subject need not)
      if (key !== 'subject' && !printsCode(text)) {
        errors.push(new UserError(ErrorCode.INVALID, `The ${key} must contain {{otp}} (outside any {{#if}} or other block), so every OTP message carries its code.`, ['input', key]));
      }
    }
    return errors;
  }
}
