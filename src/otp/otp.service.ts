import { preparedQueriesOf } from '../db/pipelined-sql';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from '../core/config';
import type { RequestContext } from '../core/context';
import type { Metrics } from '../core/metrics';
import { Role } from '../auth/roles';
import { ErrorCode, UserErrorException } from '../core/errors';
import type { PageSource } from '../core/pagination';
import type { Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import type { CodeHasher } from './codes';
import type { DeliveryQueue } from './delivery/delivery-queue';
import type { OtpLimits } from './otp-limits';
import type { OtpChannel, OtpRequestEntity } from './otp-request.entity';
import { OtpRequestRepository, type OtpRequestFilter, type RuleOtpBinding, type SentBy } from './otp-request.repository';
import { OtpSender, type SendOptions, type SenderConfig } from './otp-sender';
import { OtpVerifier, type VerifyResult } from './otp-verifier';
import { assertMaySendOtp, OtpValidationException } from './otp.errors';
import {
  validateCancelOtp, validateResendOtp, validateSendOtp, validateVerifyOtp, type CancelOtpRequest, type ResendOtpRequest, type SendOtpCommand,
  type SendOtpRequest, type VerifyOtpRequest,
} from './otp.validation';
import { clientFailure } from './delivery/delivery-errors';
import { bringNextStepsForward } from './delivery/workflow-steps';
import type { OtpDeliveryEntity } from './otp-delivery.entity';
import { SendReferences, type ReferenceChecks, type ReferenceKey } from './send-references';
import { MessageTemplateService } from './templates/message-template.service';
import { OPEN_SCREEN, type SendScreen } from './send-screen';

export type { VerifyResult } from './otp-verifier';
export type { OtpPolicy, SendOptions } from './otp-sender';
export type { OtpRequestFilter, RuleOtpBinding } from './otp-request.repository';
export type { CancelOtpRequest, ResendOtpRequest, SendOtpRequest, VerifyOtpRequest } from './otp.validation';
export type { ScreenedSend, ScreenWrite, SendScreen, Statement } from './send-screen';

export interface OtpServiceDeps {
  config: SenderConfig & Pick<AppConfig, 'DEFAULT_COUNTRY_CODE'>;
  hasher: CodeHasher;
  limits: OtpLimits;
  queue: DeliveryQueue;
  metrics: Metrics;
  log: Logger;
  /** Where wrong codes are counted, outside any caller transaction (defaults to the main pool). */
  counters?: Queryable;
  /** Every change to an OTP request is published here, in the change's transaction. */
  events: EventPublisher;
}

/**
 * The OTP feature's one entry point for GraphQL, REST and OTP rules: finds requests (with who may see them) and hands
 * sends to the {@link OtpSender} and codes to the {@link OtpVerifier}.
 */
export class OtpService {
  private readonly requests: OtpRequestRepository;
  /** The same table on the counters pool: statements that must never wait behind a caller's transaction. */
  private readonly counted: OtpRequestRepository;
  private readonly sender: OtpSender;
  private readonly verifier: OtpVerifier;
  private readonly references: SendReferences;
  private readonly screens = { current: OPEN_SCREEN };

  constructor(db: DataSource, private readonly deps: OtpServiceDeps) {
    this.references = new SendReferences(new MessageTemplateService(db));
    this.requests = new OtpRequestRepository(db, preparedQueriesOf(db));
    this.counted = new OtpRequestRepository(deps.counters ?? db);
    this.sender = new OtpSender(db, this.requests, { ...deps, screens: this.screens });
    this.verifier = new OtpVerifier(this.requests, this.counted, { ...deps, db, screens: this.screens });
  }

  /**
   * Registers the check of a reference a send may carry (`ruleId` and `recordId` are registered at start). A
   * reference nobody registered a check for is refused: nothing can vouch for it.
   */
  registerReferenceCheck<K extends ReferenceKey>(key: K, check: NonNullable<ReferenceChecks[K]>): void {
    this.references.register(key, check);
  }

  /** Registers the screen every send passes before anything is taken or written (the fraud guard). */
  registerSendScreen(screen: SendScreen): void {
    this.screens.current = screen;
  }

  /** Validates a send from either door, then sends; every failing field is reported at once and nothing is written. */
  async send(ctx: RequestContext, request: SendOtpRequest, options: SendOptions = {}): Promise<OtpRequestEntity> {
    assertMaySendOtp(ctx);
    const { value, errors } = validateSendOtp(request, this.deps.config.DEFAULT_COUNTRY_CODE, this.deps.config.OTP_VALIDITY_SECONDS);
    const all = [...errors, ...(await this.references.errors(request))];
    if (all.length || !value) throw new OtpValidationException(all);
    return this.sender.send(ctx, value, options);
  }

  /** Sends an already-validated command (OTP rules build theirs); see {@link OtpSender.send}. */
  sendValidated(ctx: RequestContext, command: SendOtpCommand, options: SendOptions = {}): Promise<OtpRequestEntity> {
    return this.sender.send(ctx, command, options);
  }

  /** Validates a verification from either door, then checks the code. */
  async verify(ctx: RequestContext, request: VerifyOtpRequest): Promise<VerifyResult> {
    assertMaySendOtp(ctx);
    const { value, errors } = validateVerifyOtp(request, this.deps.config.DEFAULT_COUNTRY_CODE);
    if (errors.length || !value) throw new OtpValidationException(errors);
    return this.verifier.verify(value, sentBy(ctx));
  }

  /** A rule OTP's code inside a guarded save's transaction; see {@link OtpVerifier.checkRuleCode}. */
  checkRuleCode(tx: Queryable, otpRequestId: string, code: string): Promise<VerifyResult> {
    return this.verifier.checkRuleCode(tx, otpRequestId, code);
  }

  async resend(ctx: RequestContext, id: string, channels?: OtpChannel[] | null): Promise<OtpRequestEntity> {
    assertMaySendOtp(ctx);
    return this.sender.resend(ctx, await this.found(ctx, id), channels);
  }

  async cancel(ctx: RequestContext, id: string): Promise<OtpRequestEntity> {
    assertMaySendOtp(ctx);
    return this.sender.cancel(await this.found(ctx, id));
  }

  /** A resend as the REST door reads it (untyped values): validated like a send, then {@link resend}. */
  async resendRequested(ctx: RequestContext, request: ResendOtpRequest): Promise<OtpRequestEntity> {
    assertMaySendOtp(ctx);
    const { value, errors } = validateResendOtp(request);
    if (errors.length || !value) throw new OtpValidationException(errors);
    return this.resend(ctx, value.otpRequestId, value.channels);
  }

  /** A cancel as the REST door reads it: validated, then {@link cancel}. */
  async cancelRequested(ctx: RequestContext, request: CancelOtpRequest): Promise<OtpRequestEntity> {
    assertMaySendOtp(ctx);
    const { value, errors } = validateCancelOtp(request);
    if (errors.length || !value) throw new OtpValidationException(errors);
    return this.cancel(ctx, value.otpRequestId);
  }

  /** A request's deliveries as clients see them: the full failure reason stays on the server. */
  async deliveries(ctx: RequestContext, request: OtpRequestEntity): Promise<OtpDeliveryEntity[]> {
    const deliveries = await ctx.loaders.otpDeliveries.load(request.id);
    return deliveries.map((delivery) => ({ ...delivery, ...clientFailure(delivery) }));
  }

  /**
   * Provider callbacks that failed deliveries call this in their transaction: a failed workflow step's next step is
   * due at once (see delivery/workflow-steps.ts).
   */
  bringNextStepsForward(tx: Queryable, failedDeliveryIds: string[]): Promise<string[]> {
    return bringNextStepsForward(tx, this.deps.queue, failedDeliveryIds);
  }

  /** A request the caller may see (admins: all; others: those they sent), or null. */
  get(ctx: RequestContext, id: string): Promise<OtpRequestEntity | null> {
    return this.requests.findVisible(id, sentBy(ctx));
  }

  page(ctx: RequestContext, filter: OtpRequestFilter, first: number, after?: string | null): Promise<PageSource<OtpRequestEntity>> {
    return this.requests.page(filter, sentBy(ctx), first, after);
  }

  /** The live OTP a rule may use for a record, read through `q` (a guarded save's transaction). */
  liveRuleOtp(q: Queryable, binding: RuleOtpBinding): Promise<OtpRequestEntity | null> {
    return this.requests.with(q).liveForRule(binding);
  }

  /** The newest OTP a rule may use for a record, whatever its state, read through `q`. */
  latestRuleOtp(q: Queryable, binding: RuleOtpBinding): Promise<OtpRequestEntity | null> {
    return this.requests.with(q).latestForRule(binding);
  }

  /** How many times the rule's OTP was sent for the record from `source` in the last `windowSeconds`, read through `q`. */
  ruleSendsSince(q: Queryable, ruleId: number, recordId: string, source: string, windowSeconds: number): Promise<number> {
    return this.requests.with(q).ruleSendsSince(ruleId, recordId, source, windowSeconds);
  }

  /** The attempt cap frozen on the newest OTP the rule sent for the record (null if none); on the counters pool. */
  ruleAttemptCap(ruleId: number, recordId: string): Promise<number | null> {
    return this.counted.latestRuleAttemptCap(ruleId, recordId);
  }

  /** The rule locked the record: its live OTPs die. On the counters pool, never waiting for a lock a save holds. */
  lockOutRuleOtps(ruleId: number, recordId: string): Promise<void> {
    return this.counted.lockOutForRule(ruleId, recordId, this.deps.events);
  }

  /**
   * A request the caller may resend or cancel. Rule OTPs are not found here (nor by verify): the rule sends them again
   * (sendRuleOtp), the guarded save consumes them.
   */
  private async found(ctx: RequestContext, id: string): Promise<OtpRequestEntity> {
    const request = await this.get(ctx, id);
    if (!request || request.issuedBy === 'RULE') throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP request has this id.', ['otpRequestId']);
    return request;
  }
}

/** Whose requests the caller may see: admins all, others those they sent. */
function sentBy(ctx: RequestContext): SentBy {
  return ctx.user.role === Role.ADMIN ? null : ctx.user.id;
}
