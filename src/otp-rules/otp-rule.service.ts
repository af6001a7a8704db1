import { MoreThan, type DataSource, type EntityManager } from 'typeorm';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isUniqueViolation } from '../db/sql';
import { findModule, type ModuleDefinition } from '../records/modules';
import { checkConditions, compileConditions } from './conditions';
import { applyIntendedChange } from './rule-purpose';
import { ruleTemplateErrors } from './rule-templates';
import type { RecordFields } from '../records/record.entity';
import type { RecordService } from '../records/record.service';
import { OtpRuleCache } from './otp-rule.cache';
import { OtpRuleEntity, type RuleConditionGroup } from './otp-rule.entity';
import type { OtpRuleInput } from './otp-rule.types';
import type { RequestContext } from '../core/context';
import type { OtpRequestEntity } from '../otp/otp-request.entity';
import type { RuleOtpGateway } from './rule-otp.gateway';

/** sendRuleOtpBulk takes at most this many records. */
export const MAX_BULK_SEND = 20;
import { sanitizedRuleKey } from './rule-keys';

const RANGES: Record<string, [number, number]> = {
  codeLength: [4, 10],
  validForSeconds: [30, 86_400],
  maxResendAttempts: [0, 100],
  resetResendAfterSeconds: [1, 604_800],
  maxValidationAttempts: [1, 100],
  resetValidationAfterSeconds: [1, 604_800],
};

/** Rule ids are Postgres integers: a cursor past this would be an out-of-range error, not a position. */
const MAX_RULE_ID = 2_147_483_647;

/** Admin management of OTP rules; every change is announced so each instance's cache reloads. */
export class OtpRuleService {
  constructor(
    private readonly db: DataSource,
    private readonly cache: OtpRuleCache,
    private readonly otps: RuleOtpGateway,
    private readonly records: RecordService,
    private readonly limit: number,
  ) {}

  /**
   * The "Send OTP" action for one record: the rule's options, channels, recipient and templates apply. With
   * `intendedFields` (the change the OTP is for, validated like a save), the OTP is bound to that change.
   */
  async sendOtp(ctx: RequestContext, ruleId: number, recordId: string, intendedFields?: unknown): Promise<OtpRequestEntity> {
    const rule = await this.get(ruleId);
    if (!rule) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP rule has this id.', ['ruleId']);
    if (!rule.active) throw UserErrorException.of(ErrorCode.INVALID, `OTP rule ${rule.id} is inactive.`, ['ruleId']);
    const record = await this.records.findLive(recordId);
    if (record?.module !== rule.module) throw UserErrorException.of(ErrorCode.NOT_FOUND, `No ${rule.module} record has this id.`, ['recordId']);
    let after: RecordFields | null = null;
    if (intendedFields != null) {
      const cached = (await this.cache.activeRules(rule.module)).find((c) => c.rule.id === rule.id);
      const enters = cached?.matches ?? compileConditions(rule.conditions);
      after = applyIntendedChange(findModule(rule.module)!, rule, record.fields, intendedFields, enters);
    }
    return (await this.otps.send(ctx, rule, record, after)).request;
  }

  /** The bulk "Send OTP" action: each record is sent to (or refused) on its own. */
  async sendOtpBulk(ctx: RequestContext, ruleId: number, recordIds: string[]): Promise<Array<{ recordId: string; otpRequest: OtpRequestEntity | null; userErrors: UserError[] }>> {
    if (recordIds.length === 0 || recordIds.length > MAX_BULK_SEND) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `Send to 1 to ${MAX_BULK_SEND} records at a time.`, ['recordIds']);
    }
    const results = [];
    for (const recordId of [...new Set(recordIds)]) {
      try {
        results.push({ recordId, otpRequest: await this.sendOtp(ctx, ruleId, recordId), userErrors: [] });
      } catch (error) {
        if (!(error instanceof UserErrorException)) throw error;
        results.push({ recordId, otpRequest: null, userErrors: error.userErrors });
      }
    }
    return results;
  }

  /** Rules by id, optionally of one module and state. */
  async page(filter: { module?: string | null; active?: boolean | null }, first: number, after?: string | null): Promise<PageSource<OtpRuleEntity>> {
    const where: { module?: string; active?: boolean } = {};
    if (filter.module) where.module = findModule(filter.module)?.name ?? filter.module;
    if (filter.active != null) where.active = filter.active;
    const [, afterId] = after ? decodeCursor(after, [(v) => v === 'OtpRule', (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_RULE_ID]) : [null, 0];
    const rules = this.db.getRepository(OtpRuleEntity);
    return {
      rows: await rules.find({ where: { ...where, id: MoreThan(afterId as number) }, order: { id: 'ASC' }, take: first + 1 }),
      first,
      cursorOf: (rule) => encodeCursor(['OtpRule', rule.id]),
      count: () => rules.count({ where }),
    };
  }

  /** The active rules this instance checks saves against (its in-memory cache). */
  async cachedRules(module: string): Promise<OtpRuleEntity[]> {
    return (await this.cache.activeRules(module)).map((cached) => cached.rule);
  }

  get(id: number): Promise<OtpRuleEntity | null> {
    return this.db.getRepository(OtpRuleEntity).findOneBy({ id });
  }

  async create(input: OtpRuleInput): Promise<OtpRuleEntity> {
    const rule = this.validate(Object.assign(new OtpRuleEntity(), defaults()), input, true);
    return this.write(async (tx) => {
      // Serialise creates so the cap holds under concurrency.
      await tx.query('LOCK TABLE otp_rules IN SHARE ROW EXCLUSIVE MODE');
      const [{ count }] = await tx.query('SELECT count(*)::int AS count FROM otp_rules');
      if (count >= this.limit) {
        throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `At most ${this.limit} OTP rules can exist (OTP_RULES_LIMIT); delete one first.`);
      }
      await this.assertNameFree(tx, rule);
      await this.assertTemplate(tx, rule);
      return tx.getRepository(OtpRuleEntity).save(rule);
    });
  }

  async update(id: number, input: OtpRuleInput): Promise<OtpRuleEntity> {
    return this.write(async (tx) => {
      const existing = await tx.getRepository(OtpRuleEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!existing) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP rule has this id.', ['id']);
      const rule = this.validate(existing, input, false);
      await this.assertNameFree(tx, rule);
      await this.assertTemplate(tx, rule);
      return tx.getRepository(OtpRuleEntity).save(rule);
    });
  }

  async delete(id: number): Promise<number> {
    return this.write(async (tx) => {
      const result = await tx.getRepository(OtpRuleEntity).delete({ id });
      if (!result.affected) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP rule has this id.', ['id']);
      return id;
    });
  }

  private async write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      const result = await this.db.transaction(async (tx) => {
        const value = await work(tx);
        await OtpRuleCache.announceChange(tx);
        return value;
      });
      await this.cache.reload(); // this instance sees its own change before answering
      return result;
    } catch (error) {
      if (isUniqueViolation(error)) throw UserErrorException.of(ErrorCode.TAKEN, 'Another OTP rule has this name (names must also differ once non-alphanumerics are removed).', ['name']);
      throw error;
    }
  }

  private async assertNameFree(tx: EntityManager, rule: OtpRuleEntity): Promise<void> {
    const clash = await tx.query(
      'SELECT id, name FROM otp_rules WHERE (lower(name) = lower($1) OR sanitized_key = $2) AND id IS DISTINCT FROM $3 LIMIT 1',
      [rule.name, rule.sanitizedKey, rule.id ?? null],
    );
    if (clash[0]) {
      throw UserErrorException.of(ErrorCode.TAKEN, `The name clashes with OTP rule ${clash[0].id} "${clash[0].name}": its key "${sanitizedRuleKey(clash[0].name)}" and "${sanitizedRuleKey(rule.name)}" are the same once case is ignored.`, ['name']);
    }
  }

  private async assertTemplate(tx: EntityManager, rule: OtpRuleEntity): Promise<void> {
    const module = findModule(rule.module);
    const errors = module ? await ruleTemplateErrors(tx, rule, module) : [];
    if (errors.length) throw new UserErrorException(errors);
  }

  /** Applies the input to `rule`, reporting every bad field at once. */
  private validate(rule: OtpRuleEntity, input: OtpRuleInput, creating: boolean): OtpRuleEntity {
    const errors: UserError[] = [];
    const fail = (field: string[], message: string, code = ErrorCode.INVALID) => errors.push(new UserError(code, message, field));

    if (input.name != null || creating) {
      const name = (input.name ?? '').trim();
      const key = sanitizedRuleKey(name);
      if (!name) fail(['name'], 'The name is required.', ErrorCode.REQUIRED);
      else if (name.length > 100) fail(['name'], 'The name must be at most 100 characters.');
      else if (!key) fail(['name'], 'The name must contain letters or digits.');
      else if (/^\d+$/.test(key)) fail(['name'], 'The name must contain a letter: a name of digits only could be mistaken for a rule id.');
      rule.name = name;
      rule.sanitizedKey = key.toLowerCase();
    }
    let module: ModuleDefinition | undefined = findModule(rule.module ?? '');
    if (input.module != null || creating) {
      module = findModule(input.module ?? '');
      if (!module) fail(['module'], `There is no module "${input.module ?? ''}".`, input.module ? ErrorCode.NOT_FOUND : ErrorCode.REQUIRED);
      else rule.module = module.name;
    }
    if (input.description != null) rule.description = input.description.trim().slice(0, 2000);
    if (input.active != null) rule.active = input.active;
    if (input.allowClosedRecords != null) rule.allowClosedRecords = input.allowClosedRecords;
    if (input.autoSendOnMatch != null) rule.autoSendOnMatch = input.autoSendOnMatch;
    if (input.applicableProfiles != null) {
      const profiles = [...new Set(input.applicableProfiles.map((p) => p.trim()))];
      if (profiles.some((p) => !p || p.length > 64)) fail(['applicableProfiles'], 'Profiles must be 1 to 64 characters.');
      rule.applicableProfiles = profiles;
    }
    if (input.codeType != null) rule.codeType = input.codeType;
    if (input.resendMode != null) rule.resendMode = input.resendMode;
    for (const [field, [min, max]] of Object.entries(RANGES)) {
      const value = (input as Record<string, unknown>)[field];
      if (value == null) continue;
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) fail([field], `${field} must be a whole number from ${min} to ${max}.`);
      else (rule as unknown as Record<string, number>)[field] = value as number;
    }
    if (input.channels != null) {
      if (input.channels.length === 0) fail(['channels'], 'At least one channel is required.', ErrorCode.REQUIRED);
      rule.channels = [...new Set(input.channels)];
    }
    if (input.emailTemplateId !== undefined) rule.emailTemplateId = input.emailTemplateId ? input.emailTemplateId.trim() : null;
    if (input.smsTemplateId !== undefined) rule.smsTemplateId = input.smsTemplateId ? input.smsTemplateId.trim() : null;
    if (input.whatsappTemplateId !== undefined) rule.whatsappTemplateId = input.whatsappTemplateId ? input.whatsappTemplateId.trim() : null;
    if (input.recipientField !== undefined) rule.recipientField = input.recipientField || null;
    if (input.conditions != null) rule.conditions = input.conditions.map((g) => ({ match: g.match, conditions: g.conditions.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? null })) })) as RuleConditionGroup[];

    if (module) {
      if (input.conditions != null || input.module != null || creating) errors.push(...checkConditions(module, rule.conditions));
      if (rule.recipientField) {
        const field = module.fields.find((f) => f.name === rule.recipientField);
        if (!field || !['phone', 'email'].includes(field.type)) fail(['recipientField'], `${module.name} has no phone or email field "${rule.recipientField}".`);
        else if (field.type === 'email' && !rule.channels.includes('EMAIL')) fail(['recipientField'], 'An email recipient field needs the EMAIL channel.');
        else if (field.type === 'phone' && !rule.channels.some((c) => c !== 'EMAIL')) fail(['recipientField'], 'A phone recipient field needs the SMS or WHATSAPP channel.');
      } else if (!rule.channels.includes('EMAIL')) {
        fail(['recipientField'], "Without a recipient field the OTP goes to the acting user's email, which needs the EMAIL channel.");
      }
    }
    if (errors.length) throw new UserErrorException(errors);
    return rule;
  }
}

function defaults(): Partial<OtpRuleEntity> {
  return {
    description: '', active: true, applicableProfiles: [], allowClosedRecords: false, conditions: [], codeType: 'NUMERIC',
    codeLength: 6, validForSeconds: 600, resendMode: 'NEW_CODE', maxResendAttempts: 5, resetResendAfterSeconds: 3600,
    maxValidationAttempts: 5, resetValidationAfterSeconds: 900, channels: ['SMS'], recipientField: null,
    emailTemplateId: null, smsTemplateId: null, whatsappTemplateId: null, autoSendOnMatch: false,
  };
}
