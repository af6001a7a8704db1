import type { RequestContext } from '../core/context';
import type { Queryable } from '../db/sql';
import type { OtpChannel, OtpRequestEntity } from './otp-request.entity';
import type { Statement } from '../db/pipelined-sql';

export type { Statement } from '../db/pipelined-sql';

/** A send (or resend) about to happen, as a screen sees it. */
export interface ScreenedSend {
  channels: OtpChannel[];
  /** E.164, only when an SMS or WhatsApp channel goes to it. */
  mobile: string | null;
  email: string | null;
  source: string;
  ruleId: number | null;
  resend: boolean;
}

/**
 * Asked on every send path before any limit is taken or anything written, and told of every send and verification
 * (the fraud guard registers one at start; the otp feature knows nothing of it). Test recipients are never screened.
 */
export interface SendScreen {
  /** Throws (a UserErrorException) to refuse the send; then nothing is written and no limit is taken. */
  screen(ctx: RequestContext, send: ScreenedSend): Promise<void>;
  /**
   * `screen` for a send that goes as one pipelined message: the checks that need no database run here (and throw as
   * `screen` does); what needs the database comes back as a statement the sender puts first in the message, which
   * fails the message when the screen must look closer (or cannot look). The sender then calls `screen`, which decides
   * as usual (refusing, blocking, or applying its failure policy), and sends without the statement if it lets the send
   * through. Null: nothing to read (the send passes).
   */
  screenStatement(ctx: RequestContext, send: ScreenedSend): Promise<Statement | null>;
  /** Inside the send's transaction, once the request is written: the send counts only if it commits. */
  sent(tx: Queryable, ctx: RequestContext, send: ScreenedSend, otpRequestId: string): Promise<void>;
  /**
   * `sent` for a send that goes as one pipelined message (no interactive transaction to write through): the same write
   * as one statement, which the sender appends to the send's message, so it commits with the send or not at all (its
   * `$n` parameters are inlined as quoted literals); `committed` runs once it has. Null when there is nothing to write.
   */
  sentStatement(ctx: RequestContext, send: ScreenedSend, otpRequestId: string): Promise<ScreenWrite | null>;
  /** A code was verified: inside the guarded save's transaction (`q`) for rule OTPs, or after the fact (null). */
  verified(q: Queryable | null, request: OtpRequestEntity): Promise<void>;
  /**
   * `verified` as an INSERT … SELECT over `from` (a CTE of the verify's own statement holding the verified row, or
   * none): the verify's one statement writes the screen's count only if it verified. Null: nothing to write.
   */
  verifiedStatement(request: OtpRequestEntity, from: string): Statement | null;
}

/** A screen's write for a pipelined send (see {@link SendScreen.sentStatement}). */
export interface ScreenWrite {
  statement: Statement;
  /** Runs after the send's message committed (e.g. to log what the statement recorded). */
  committed?: () => void;
}

/** The screen until one is registered: lets everything through. */
export const OPEN_SCREEN: SendScreen = {
  screen: async () => undefined,
  screenStatement: async () => null,
  sent: async () => undefined,
  sentStatement: async () => null,
  verified: async () => undefined,
  verifiedStatement: () => null,
};
