import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { DataSource } from 'typeorm';
import { LRUCache } from 'lru-cache';
import { Notifications } from '../db/notifications';
import { hashApiKey } from './api-key-hash';
import { toUserEntity, UserEntity } from './user.entity';
import { Unauthenticated } from '../core/errors';
import { isUuid } from '../core/ids';

export interface JwtOptions {
  publicKeyPem?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Oldest accepted `iat`, in seconds; 0 turns the age check off (then `iat` is optional). `exp` is always required. */
  maxAgeSeconds: number;
}

/** Leeway for clocks of the token issuer and this server that disagree a little (exp, nbf, iat). */
export const JWT_CLOCK_TOLERANCE_SECONDS = 30;

export interface Principal {
  user: UserEntity;
  apiKeyId: string | null;
}

const LAST_USED_RESOLUTION_MS = 60_000;
export const AUTH_CHANGED_CHANNEL = 'countersign_auth_changed';

interface CachedPrincipal {
  principal: Principal;
  /** The key's or token's own expiry, checked on every hit. */
  expiresAt: number | null;
}

/** Turns an `Authorization: Bearer …` header into the acting user: an API key (hash lookup) or a JWT. */
export class Authenticator {
  private readonly jwtKey: KeyObject | JWTVerifyGetKey | null;
  /**
   * Principals by token hash for a few seconds, so a request does not pay a lookup. Revoking a key or changing a user
   * announces AUTH_CHANGED_CHANNEL and every instance drops its cache at once; the TTL bounds anything missed.
   */
  private readonly cache = new LRUCache<string, CachedPrincipal>({ max: 10_000, ttl: 30_000 });

  constructor(private readonly db: DataSource, private readonly jwt: JwtOptions, notifications: Notifications) {
    notifications.on(AUTH_CHANGED_CHANNEL, () => this.cache.clear());
    notifications.onReconnect(() => this.cache.clear());
    if (jwt.publicKeyPem) this.jwtKey = createPublicKey(jwt.publicKeyPem.replace(/\\n/g, '\n'));
    else if (jwt.jwksUrl) this.jwtKey = createRemoteJWKSet(new URL(jwt.jwksUrl));
    else this.jwtKey = null;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new Unauthenticated('Authentication required: send "Authorization: Bearer <API key or JWT>".');
    const hash = hashApiKey(token);
    const cached = this.cache.get(hash);
    if (cached && (cached.expiresAt === null || cached.expiresAt > Date.now())) return cached.principal;
    const fresh = token.split('.').length === 3 && this.jwtKey ? await this.fromJwt(token) : await this.fromApiKey(hash);
    this.cache.set(hash, fresh);
    return fresh.principal;
  }

  /** Drops every cached principal of this instance (other instances hear AUTH_CHANGED_CHANNEL). */
  forgetAll(): void {
    this.cache.clear();
  }

  /** Call after revoking keys or changing users, inside the change's transaction when there is one. */
  static announceChange(db: { query(sql: string, params?: unknown[]): Promise<unknown> }): Promise<void> {
    return Notifications.notify(db, AUTH_CHANGED_CHANNEL);
  }

  private async fromApiKey(hash: string): Promise<CachedPrincipal> {
    const rows: Array<{ key_id: string; last_used_at: Date | null; key_expires_at: Date | null } & Record<string, unknown>> = await this.db.query(
      `SELECT k.id AS key_id, k.last_used_at, k.expires_at AS key_expires_at, u.*
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.active`,
      [hash],
    );
    const row = rows[0];
    if (!row) throw new Unauthenticated('The API key is unknown, revoked or expired.');
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
      void this.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.key_id]).catch(() => undefined);
    }
    return { principal: { user: toUserEntity(row), apiKeyId: row.key_id }, expiresAt: row.key_expires_at?.getTime() ?? null };
  }

  private async fromJwt(token: string): Promise<CachedPrincipal> {
    let subject: string | undefined;
    let expiresAt: number | null = null;
    try {
      const maxAge = this.jwt.maxAgeSeconds || undefined;
      const { payload } = await jwtVerify(token, this.jwtKey as KeyObject, {
        issuer: this.jwt.issuer, audience: this.jwt.audience, requiredClaims: ['exp'], maxTokenAge: maxAge, clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
      });
      subject = payload.sub;
      // remembered no longer than the token is good for: its expiry, or the end of its allowed age
      const ends = [payload.exp!, maxAge !== undefined ? payload.iat! + maxAge : Infinity];
      expiresAt = (Math.min(...ends) + JWT_CLOCK_TOLERANCE_SECONDS) * 1000;
    } catch (error) {
      throw new Unauthenticated(`The JWT was rejected: ${(error as Error).message}`);
    }
    if (!subject) throw new Unauthenticated('The JWT has no "sub" claim.');
    const repo = this.db.getRepository(UserEntity);
    const user = isUuid(subject) ? await repo.findOneBy({ id: subject, active: true }) : await repo.findOneBy({ email: String(subject).toLowerCase(), active: true });
    if (!user) throw new Unauthenticated('The JWT subject is not a known active user.');
    return { principal: { user, apiKeyId: null }, expiresAt };
  }
}
