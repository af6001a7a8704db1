import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock';
import type { RequestContext } from '../core/context';
import { toPayload, type UserError } from '../core/errors';
import type { IdempotencyKeyRepository } from './idempotency-key.repository';
import { IdempotencyKeyInUse, IdempotencyKeyReused } from './idempotency.errors';
import { checkedKey, payloadHash } from './idempotency-keys';

/** How long a key and its answer are kept: a retry within this time gets the stored answer. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** One idempotent request: which operation, the caller's key (none: not idempotent) and the input it is compared by. */
export interface IdempotentRequest {
  operation: string;
  key: string | null | undefined;
  input: unknown;
}

export type Payload<K extends string, T> = { [P in K]: T | null } & { userErrors: UserError[] };

/**
 * Runs a request at most once per caller and key (IETF draft httpapi-idempotency-key-header): the first request
 * claims the key in Postgres (RUNNING), runs, and stores its answer (DONE); a retry with the same input gets that
 * answer back, one with another input is refused (IdempotencyKeyReused), one while the first runs too
 * (IdempotencyKeyInUse). A run that throws (a refusal, user errors, a fault) changed nothing and frees the key. A run
 * whose process died keeps the key RUNNING until `lockTimeoutMs` has passed; then a retry with the same input runs.
 */
export class IdempotencyService {
  constructor(
    private readonly keys: IdempotencyKeyRepository,
    private readonly clock: Clock,
    private readonly lockTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Keys are the caller's own: an API key's, or a user's when they signed in with a JWT. */
  static scopeOf(ctx: RequestContext): string {
    return ctx.apiKeyId ? `apikey:${ctx.apiKeyId}` : `user:${ctx.user.id}`;
  }

  /**
   * The core: runs `operation` once for (scope, key) and stores what it returns (JSON, without secrets); later calls
   * with the same payload hash get that answer with `replayed: true`.
   */
  async run<A>(scope: string, key: string, hash: string, operation: () => Promise<A>): Promise<{ answer: A; replayed: boolean }> {
    // a second pass only when the key was freed between our claim and our read
    for (let pass = 0; pass < 3; pass += 1) {
      const now = this.clock.now();
      const lockToken = randomUUID();
      const claimed = await this.keys.claim({
        scope, key, payloadHash: hash, lockToken, now,
        lockedUntil: new Date(now.getTime() + this.lockTimeoutMs), expiresAt: new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_MS),
      });
      if (claimed) return { answer: await this.runClaimed(scope, key, lockToken, operation), replayed: false };
      const stored = await this.keys.find(scope, key);
      if (!stored) continue;
      if (stored.payloadHash !== hash) throw new IdempotencyKeyReused();
      if (stored.state === 'DONE') return { answer: stored.answer as A, replayed: true };
      throw new IdempotencyKeyInUse(secondsUntil(stored.lockedUntil, now));
    }
    throw new IdempotencyKeyInUse(1);
  }

  /**
   * A GraphQL mutation whose payload carries one object (`otpRequest`, `record`, `connection`): without a key it is
   * `toPayload(field, work)`; with one, `work` runs once and a retry reads the same object again with `reread` (its
   * state now, through the caller's own access checks). Only the object's id is stored.
   */
  payload<K extends string, T extends { id: string | number }>(
    ctx: RequestContext, request: IdempotentRequest, field: K, work: () => Promise<T>, reread: (id: string) => Promise<T | null>,
  ): Promise<Payload<K, T>> {
    return toPayload(field, async () => {
      if (request.key === null || request.key === undefined) return work();
      let fresh: T | null = null;
      const { answer, replayed } = await this.run(IdempotencyService.scopeOf(ctx), checkedKey(request.key), payloadHash(request.operation, request.input),
        async () => {
          fresh = await work();
          return { id: String(fresh.id) };
        });
      return replayed ? reread(answer.id) : fresh;
    });
  }

  /** A REST door's answer (status and body, JSON), stored as it is and answered again to a retry. */
  async answer<A>(ctx: RequestContext, request: IdempotentRequest, work: () => Promise<A>): Promise<A> {
    if (request.key === null || request.key === undefined) return work();
    const { answer } = await this.run(IdempotencyService.scopeOf(ctx), checkedKey(request.key), payloadHash(request.operation, request.input), work);
    return answer;
  }

  /** Deletes keys whose 24 h have passed, in bounded batches; returns how many. */
  async deleteExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.keys.deleteExpired(this.clock.now(), 1000);
      total += deleted;
      if (deleted < 1000) return total;
    }
  }

  private async runClaimed<A>(scope: string, key: string, lockToken: string, operation: () => Promise<A>): Promise<A> {
    let answer: A;
    try {
      answer = await operation();
    } catch (error) {
      await this.keys.release(scope, key, lockToken).catch((e) => this.log.warn({ err: e, scope }, 'could not free an idempotency key; it frees itself after the lock timeout'));
      throw error;
    }
    // the work is done: a failure to store its answer must not turn it into an error for the caller
    const stored = await this.keys.complete(scope, key, lockToken, answer)
      .catch((e) => { this.log.warn({ err: e, scope }, 'could not store an idempotent answer'); return false; });
    if (!stored) this.log.warn({ scope }, 'an idempotent request outlived its lock timeout; its answer was not stored');
    return answer;
  }
}

function secondsUntil(until: Date | null, now: Date): number {
  return Math.max(1, Math.ceil(((until?.getTime() ?? now.getTime()) - now.getTime()) / 1000));
}
