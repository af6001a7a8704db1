import type { EntityManager } from 'typeorm';
import type { Clock } from '../core/clock';
import type { Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { ruleEvent } from './rule.events';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isClosed, type ModuleDefinition } from '../records/modules';
import type { GuardedSave, JudgedSave, RecordSaveGuard } from '../records/save-guard';
import type { RecordEntity, RecordFields } from '../records/record.entity';
import { RuleCheckedStates } from './checked-states';
import type { CachedRule, OtpRuleCache } from './otp-rule.cache';
import type { OtpRuleEntity } from './otp-rule.entity';
import { codeFor, collectRuleCodes } from './rule-credentials';
import { changesRecipient, conditionFields, describeChange } from './rule-purpose';
import { Role } from '../auth/roles';
import { acceptedKeys, FIELD_KEY_PREFIX, sanitizedRuleKey } from './rule-keys';
import type { LiveOtp, RuleOtpGateway } from './rule-otp.gateway';
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
    /** rule.save_verified rides on the save's transaction; rule.otp_required (the save is refused) on `db`, after it. */
    private readonly events: EventPublisher,
    private readonly db: Queryable,
    private readonly checkedStates = new RuleCheckedStates(),
  ) {}

  /**
   * An update of an open record that enters no rule's state and moves no rule's recipient: nothing to check, consume,
   * remember or send. A closed record always goes the locked way (its checked state is read or kept in the save's
   * transaction).
   */
  async passesWithoutTransaction(save: JudgedSave): Promise<boolean> {
    if (save.operation !== 'update' || !save.before || isClosed(save.module, save.before.fields)) return false;
    if ((await this.enteredByOpenRecord(save, save.before.fields)).length > 0) return false;
    return (await this.recipientChanges(save)).length === 0;
  }

  async beforeSave(save: GuardedSave, tx: EntityManager): Promise<void> {
    const rules = await this.cache.activeRules(save.module.name);
    const matching = await this.matchingRules(rules, save, tx);
    const recipientGuarded = (await this.recipientChanges(save)).filter((rule) => !matching.includes(rule));
    if (matching.length === 0 && recipientGuarded.length === 0) return;
    if (save.operation === 'create' || !save.before) {
      throw new UserErrorException(matching.map((rule) => new UserError(
        ErrorCode.OTP_RULE_BLOCKS_CREATE,
        `OTP rule ${rule.id} "${rule.name}" protects this state, and a record cannot be created in it: no OTP can exist for a record that does not exist yet. Create it in another state, then update it with the OTP.`,
        ['fields'],
        { ruleId: rule.id, ruleName: rule.name },
      )));
    }
    const record = save.before;
    // A code proves its recipient agreed; a save that also moves that recipient would let the code reach someone else.
    const together = matching.filter((rule) => changesRecipient(rule, record.fields, save.after));
    if (together.length) {
      throw new UserErrorException(together.map((rule) => new UserError(
        ErrorCode.INVALID,
        `This save enters the state OTP rule ${rule.id} "${rule.name}" protects and also changes ${fieldLabel(save, rule)}, where the rule sends its OTP: make the two changes in separate saves.`,
        ['fields', rule.recipientField!],
        { ruleId: rule.id, ruleName: rule.name, reason: 'RECIPIENT_CHANGED_WITH_STATE' },
      )));
    }
    const codes = collectRuleCodes(save.otp, save.reservedFields, save.ctx.ruleOtpHeaders);
    const errors: UserError[] = [];
    for (const rule of [...matching, ...recipientGuarded]) {
      const code = codeFor(codes, rule);
      const reason = matching.includes(rule) ? 'STATE' : 'RECIPIENT';
      errors.push(...(code === undefined ? await this.required(tx, save, rule, record, reason) : await this.check(tx, save, rule, record, code)));
    }
    if (errors.length) throw new UserErrorException(errors);
  }

  /**
   * Rules whose recipient this update moves away from a value it had: the recipient is the rule's trust anchor, so
   * changing it needs the rule's OTP, sent to the recipient as it stands — whatever the record's state (closed too).
   * Admins, who manage rules, may correct a recipient without one (e.g. a lost phone).
   */
  private async recipientChanges(save: JudgedSave): Promise<OtpRuleEntity[]> {
    if (!save.before || save.ctx.user.role === Role.ADMIN) return [];
    const before = save.before.fields;
    const applicable = this.applicable(await this.cache.activeRules(save.module.name), save);
    return applicable.map(({ rule }) => rule).filter((rule) => changesRecipient(rule, before, save.after));
  }

  /**
   * The applicable rules whose state an update of an open record enters: only rules reading a field it changes can
   * match, so only those are asked (the same answer as asking every applicable rule).
   */
  private async enteredByOpenRecord(save: JudgedSave, before: RecordFields): Promise<OtpRuleEntity[]> {
    const touched = this.applicable(await this.cache.rulesReadingChanged(save.module.name, before, save.after), save);
    return touched.filter(({ matches }) => matches(before, save.after)).map(({ rule }) => rule);
  }

  /** The rules that apply to the acting user's profile. */
  private applicable(rules: CachedRule[], save: JudgedSave): CachedRule[] {
    return rules.filter(({ rule }) => rule.applicableProfiles.length === 0 || rule.applicableProfiles.includes(save.ctx.user.profile));
  }

  /**
   * Active rules of the module that apply to this user and record and whose state the save enters. A rule that skips
   * closed records (`allowClosedRecords: false`) skips only saves that keep the record closed (unless its conditions
   * read the module's closed-state field: it then guards closed states too, and checks those saves); a save that reopens it
   * is checked against its state before the save and against the last state the rules checked before it was closed
   * (see docs/otp-rules.md, "Closed records"), so no change can be made on a detour through the closed state.
   */
  private async matchingRules(rules: CachedRule[], save: GuardedSave, tx: EntityManager): Promise<OtpRuleEntity[]> {
    const { after } = save;
    if (save.operation === 'create' || !save.before) {
      return this.applicable(rules, save).filter(({ matches }) => matches(null, after)).map(({ rule }) => rule);
    }
    const record = save.before;
    const before = record.fields;
    if (!isClosed(save.module, before)) return this.enteredByOpenRecord(save, before);
    const applicable = this.applicable(rules, save);
    const staysClosed = isClosed(save.module, after);
    let checked: RecordFields | null = null;
    if (!staysClosed) checked = await this.checkedStates.takeOnReopen(tx, record.id);
    else if (rules.some(({ rule }) => !rule.allowClosedRecords)) await this.checkedStates.remember(tx, record.id, before);
    return applicable
      .filter(({ rule, matches }) => {
        if (rule.allowClosedRecords) return matches(before, after);
        // A rule that reads the closed-state field guards states closed ones included (e.g. "status HAS_CHANGED_TO
        // Paid"): moving from one closed state to another must not slip past it (Sent → Cancelled → Paid).
        if (staysClosed) return readsClosedState(save.module, rule) && matches(before, after);
        return matches(before, after) || (checked !== null && matches(checked, after));
      })
      .map(({ rule }) => rule);
  }

  private async required(tx: EntityManager, save: GuardedSave, rule: OtpRuleEntity, record: RecordEntity, reason: 'STATE' | 'RECIPIENT'): Promise<UserError[]> {
    const live = await this.otps.liveOtp(tx, save.ctx, rule, record);
    const what = reason === 'STATE'
      ? `This save matches OTP rule ${rule.id} "${rule.name}"`
      : `This save changes ${fieldLabel(save, rule)}, where OTP rule ${rule.id} "${rule.name}" sends its OTP, so it needs that OTP (sent to the current ${fieldLabel(save, rule)})`;
    const error = new UserError(
      ErrorCode.OTP_REQUIRED,
      `${what}: pass its OTP as otp: [{ rule: "${rule.id}", code }], fields.${FIELD_KEY_PREFIX}${sanitizedRuleKey(rule.name)} or the OTPRULES-OTP-${rule.id} header.`,
      ['otp'],
      { ruleId: rule.id, ruleName: rule.name, reason, sanitizedName: sanitizedRuleKey(rule.name), acceptedKeys: acceptedKeys(rule) },
    );
    describeSent(error, live);
    save.afterTransaction(() => this.events.publish(this.db, ruleEvent('rule.otp_required', rule, record, save.ctx.user.id, { reason, otpLive: live !== null })));
    if (!live && rule.autoSendOnMatch) {
      // The workflow "Send OTP" action: sent once the refused save's transaction has ended, never while it holds a
      // pool connection (the send needs connections of its own), and described in this answer once sent.
      save.afterTransaction(async () => {
        const sent = await this.otps.send(save.ctx, rule, record, save.after).catch((failure: unknown) => {
          save.ctx.log.warn({ err: failure, ruleId: rule.id, recordId: record.id }, 'autoSendOnMatch could not send the OTP');
          return null;
        });
        describeSent(error, sent);
      });
    }
    return [error];
  }

  private async check(tx: EntityManager, save: GuardedSave, rule: OtpRuleEntity, record: RecordEntity, code: string): Promise<UserError[]> {
    const recordId = record.id;
    // The attempt cap is the one frozen on the OTP when it was sent: editing the rule neither weakens nor voids it.
    const issued = await this.otps.latestOtp(tx, save.ctx, rule, record);
    const limits = issued ? { ...rule, maxValidationAttempts: issued.maxAttempts } as OtpRuleEntity : rule;
    const lockedFor = await this.failures.lockedForSeconds(limits, recordId, this.clock.now());
    if (lockedFor > 0) return [locked(rule, lockedFor)];
    const check = await this.otps.verify(tx, save.ctx, rule, record, save.after, code);
    if (check.result === 'VERIFIED') {
      await this.failures.clear(tx, rule, recordId);
      await this.events.publish(tx, ruleEvent('rule.save_verified', rule, record, save.ctx.user.id));
      return [];
    }
    if (check.result === 'EXPIRED') {
      return [new UserError(ErrorCode.OTP_EXPIRED, `The OTP for rule ${rule.id} "${rule.name}" has expired; send a new one.`, ['otp'], { ruleId: rule.id })];
    }
    if (check.result === 'OTHER_CHANGE') {
      const issuedFor = describeChange(save.module, rule, record.fields, check.intendedFields);
      return [new UserError(
        ErrorCode.OTP_INVALID,
        `The OTP for rule ${rule.id} "${rule.name}" was issued for another change${issuedFor ? ` (${issuedFor})` : ''}; send a new OTP for this change. The OTP was not used and no attempt was counted.`,
        ['otp'],
        { ruleId: rule.id, reason: 'OTHER_CHANGE', issuedFor },
      )];
    }
    // One attempt model (validation-failures.ts): this count is the only limit; reaching it kills the live OTP.
    const { attemptsLeft, lockedForSeconds } = await this.failures.record(limits, recordId, this.clock.now());
    if (lockedForSeconds > 0) return [locked(rule, lockedForSeconds)];
    return [new UserError(ErrorCode.OTP_INVALID, `The OTP for rule ${rule.id} "${rule.name}" is not valid; ${attemptsLeft} attempt(s) left before the rule locks for this record.`, ['otp'], { ruleId: rule.id, attemptsLeft })];
  }
}

/** Completes an OTP_REQUIRED error with where the live OTP went (or that none was sent yet). */
function describeSent(error: UserError, live: LiveOtp | null): void {
  const base = error.message.replace(/ (An OTP was sent to .*|No OTP has been sent yet: use sendRuleOtp\.)$/, '');
  error.message = `${base}${live ? ` An OTP was sent to ${live.sentTo.join(', ')}.` : ' No OTP has been sent yet: use sendRuleOtp.'}`;
  Object.assign(error.details!, { otpSent: !!live, sentTo: live?.sentTo ?? [], otpRequestId: live?.otpRequestId ?? null });
}

/** Whether the rule's conditions read the field that says whether a record of its module is closed. */
function readsClosedState(module: ModuleDefinition, rule: OtpRuleEntity): boolean {
  return !!module.closedStates && conditionFields(rule).includes(module.closedStates.field);
}

function fieldLabel(save: GuardedSave, rule: OtpRuleEntity): string {
  return save.module.fields.find((f) => f.name === rule.recipientField)?.label ?? rule.recipientField ?? 'the recipient';
}

function locked(rule: OtpRuleEntity, seconds: number): UserError {
  return new UserError(
    ErrorCode.OTP_LOCKED,
    `Too many wrong OTPs for rule ${rule.id} "${rule.name}" on this record: locked for ${seconds} s. The OTP sent is no longer valid; send a new one once the lock ends.`,
    ['otp'],
    { ruleId: rule.id, retryAfterSeconds: seconds, attemptsLeft: 0 },
  );
}
