import type { EntityManager } from 'typeorm';
import type { Clock } from '../common/clock';
import { ErrorCode, UserError, UserErrorException } from '../common/errors';
import { isClosed } from '../records/modules';
import type { GuardedSave, RecordSaveGuard } from '../records/save-guard';
import type { RecordEntity, RecordFields } from '../records/record.entity';
import { RuleCheckedStates } from './checked-states';
import type { CachedRule, OtpRuleCache } from './otp-rule.cache';
import type { OtpRuleEntity } from './otp-rule.entity';
import { codeFor, collectRuleCodes } from './rule-credentials';
import { acceptedKeys, FIELD_KEY_PREFIX, sanitizedRuleKey } from './rule-keys';
import type { RuleOtpGateway } from './rule-otp.gateway';
import type { RuleValidationFailures } from './validation-failures';

/**
 * The OTP rules' answer to "may this save happen?": registered with the records service at start. Creates that
 * match are refused; updates that match need a valid OTP for every matching rule, consumed in the save's transaction.
 */
export class OtpRuleGuard implements RecordSaveGuard {
  readonly reservedFieldPrefix = FIELD_KEY_PREFIX;

  constructor(
    private readonly cache: OtpRuleCache,
    private readonly otps: RuleOtpGateway,
    private readonly failures: RuleValidationFailures,
    private readonly clock: Clock,
    private readonly checkedStates = new RuleCheckedStates(),
  ) {}

  async beforeSave(save: GuardedSave, tx: EntityManager): Promise<void> {
    const matching = await this.matchingRules(await this.cache.activeRules(save.module.name), save, tx);
    if (matching.length === 0) return;
    if (save.operation === 'create' || !save.before) {
      throw new UserErrorException(matching.map((rule) => new UserError(
        ErrorCode.OTP_RULE_BLOCKS_CREATE,
        `OTP rule ${rule.id} "${rule.name}" protects this state, and a record cannot be created in it: no OTP can exist for a record that does not exist yet. Create it in another state, then update it with the OTP.`,
        ['fields'],
        { ruleId: rule.id, ruleName: rule.name },
      )));
    }
    const record = save.before;
    const codes = collectRuleCodes(save.otp, save.reservedFields, save.ctx.headers);
    const errors: UserError[] = [];
    for (const rule of matching) {
      const code = codeFor(codes, rule);
      errors.push(...(code === undefined ? await this.required(save, rule, record) : await this.check(tx, save, rule, record, code)));
    }
    if (errors.length) throw new UserErrorException(errors);
  }

  /**
   * Active rules of the module that apply to this user and record and whose state the save enters. A rule that skips
   * closed records (`allowClosedRecords: false`) skips only saves that keep the record closed; a save that reopens it
   * is checked against its state before the save and against the last state the rules checked before it was closed
   * (see docs/otp-rules.md, "Closed records"), so no change can be made on a detour through the closed state.
   */
  private async matchingRules(rules: CachedRule[], save: GuardedSave, tx: EntityManager): Promise<OtpRuleEntity[]> {
    const applicable = rules.filter(({ rule }) => rule.applicableProfiles.length === 0 || rule.applicableProfiles.includes(save.ctx.user.profile));
    const { after } = save;
    if (save.operation === 'create' || !save.before) {
      return applicable.filter(({ matches }) => matches(null, after)).map(({ rule }) => rule);
    }
    const record = save.before;
    const before = record.fields;
    if (!isClosed(save.module, before)) {
      return applicable.filter(({ matches }) => matches(before, after)).map(({ rule }) => rule);
    }
    const staysClosed = isClosed(save.module, after);
    let checked: RecordFields | null = null;
    if (!staysClosed) checked = await this.checkedStates.takeOnReopen(tx, record.id);
    else if (rules.some(({ rule }) => !rule.allowClosedRecords)) await this.checkedStates.remember(tx, record.id, before);
    return applicable
      .filter(({ rule, matches }) => {
        if (rule.allowClosedRecords) return matches(before, after);
        if (staysClosed) return false;
        return matches(before, after) || (checked !== null && matches(checked, after));
      })
      .map(({ rule }) => rule);
  }

  private async required(save: GuardedSave, rule: OtpRuleEntity, record: RecordEntity): Promise<UserError[]> {
    let live = await this.otps.liveOtp(save.ctx, rule, record);
    if (!live && rule.autoSendOnMatch) live = await this.otps.send(save.ctx, rule, record.id).catch(() => null);
    const where = live ? ` An OTP was sent to ${live.sentTo.join(', ')}.` : ' No OTP has been sent yet: use sendRuleOtp.';
    return [new UserError(
      ErrorCode.OTP_REQUIRED,
      `This save matches OTP rule ${rule.id} "${rule.name}": pass its OTP as otp: [{ rule: "${rule.id}", code }], fields.${FIELD_KEY_PREFIX}${sanitizedRuleKey(rule.name)} or the OTPRULES-OTP-${rule.id} header.${where}`,
      ['otp'],
      { ruleId: rule.id, ruleName: rule.name, sanitizedName: sanitizedRuleKey(rule.name), acceptedKeys: acceptedKeys(rule), otpSent: !!live, sentTo: live?.sentTo ?? [], otpRequestId: live?.otpRequestId ?? null },
    )];
  }

  private async check(tx: EntityManager, save: GuardedSave, rule: OtpRuleEntity, record: RecordEntity, code: string): Promise<UserError[]> {
    const recordId = record.id;
    const lockedFor = await this.failures.lockedForSeconds(rule, recordId, this.clock.now());
    if (lockedFor > 0) return [locked(rule, lockedFor)];
    const result = await this.otps.verify(tx, save.ctx, rule, record, code);
    if (result === 'VERIFIED') {
      await this.failures.clear(tx, rule, recordId);
      return [];
    }
    if (result === 'EXPIRED') {
      return [new UserError(ErrorCode.OTP_EXPIRED, `The OTP for rule ${rule.id} "${rule.name}" has expired; send a new one.`, ['otp'], { ruleId: rule.id })];
    }
    // One attempt model (validation-failures.ts): this count is the only limit; reaching it kills the live OTP.
    const { attemptsLeft, lockedForSeconds } = await this.failures.record(rule, recordId, this.clock.now());
    if (lockedForSeconds > 0) return [locked(rule, lockedForSeconds)];
    return [new UserError(ErrorCode.OTP_INVALID, `The OTP for rule ${rule.id} "${rule.name}" is not valid; ${attemptsLeft} attempt(s) left before the rule locks for this record.`, ['otp'], { ruleId: rule.id, attemptsLeft })];
  }
}

function locked(rule: OtpRuleEntity, seconds: number): UserError {
  return new UserError(
    ErrorCode.OTP_LOCKED,
    `Too many wrong OTPs for rule ${rule.id} "${rule.name}" on this record: locked for ${seconds} s. The OTP sent is no longer valid; send a new one once the lock ends.`,
    ['otp'],
    { ruleId: rule.id, retryAfterSeconds: seconds, attemptsLeft: 0 },
  );
}
