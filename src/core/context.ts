import type { Logger } from 'pino';
import type { UserEntity } from '../auth/user.entity';

/**
 * The per-request DataLoaders. Each feature declares its own in its `*.loaders.ts` (`declare module '../core/context'`)
 * and creates them in its `feature.ts` (`loaders(db)`), so this file names no feature's loaders and `app/loaders.ts`
 * only merges them (a declared loader no feature creates fails to compile there).
 */
export interface Loaders {}

/** Threaded through every resolver and service call: who is acting, on which request, with which loaders. */
export interface RequestContext {
  requestId: string;
  user: UserEntity;
  /** The API key used, when the caller authenticated with one. */
  apiKeyId: string | null;
  /** The client's address (behind a loopback proxy: its X-Forwarded-For); per-IP send limits count against it. */
  clientIp?: string | null;
  /** Rule OTPs passed as `OTPRULES-OTP-<key>` headers, by `<key>` as written (read from the request on first use). */
  ruleOtpHeaders: Record<string, string>;
  loaders: Loaders;
  /**
   * Drops the loaders made so far, so the next `loaders` are fresh: run before each top-level field of a mutation
   * (they run one after another), so a field does not read rows an earlier field of the same operation changed from a
   * loader's cache. Absent where every `loaders` is fresh already (subscriptions).
   */
  freshLoaders?(): void;
  log: Logger;
}
