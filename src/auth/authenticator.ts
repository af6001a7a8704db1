import { createPublicKey, type KeyObject } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { DataSource } from 'typeorm';
import { hashApiKey } from './api-key.service';
import { toUserEntity, UserEntity } from './user.entity';
import { isUuid } from '../common/ids';

export interface JwtOptions {
  publicKeyPem?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export interface Principal {
  user: UserEntity;
  apiKeyId: string | null;
}

export class AuthenticationFailed extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** Turns an `Authorization: Bearer …` header into the acting user: an API key (hash lookup) or a JWT. */
export class Authenticator {
  private readonly jwtKey: KeyObject | JWTVerifyGetKey | null;

  constructor(private readonly db: DataSource, private readonly jwt: JwtOptions) {
    if (jwt.publicKeyPem) this.jwtKey = createPublicKey(jwt.publicKeyPem.replace(/\\n/g, '\n'));
    else if (jwt.jwksUrl) this.jwtKey = createRemoteJWKSet(new URL(jwt.jwksUrl));
    else this.jwtKey = null;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new AuthenticationFailed('Authentication required: send "Authorization: Bearer <API key or JWT>".');
    if (token.split('.').length === 3 && this.jwtKey) return this.fromJwt(token);
    return this.fromApiKey(token);
  }

  private async fromApiKey(token: string): Promise<Principal> {
    const rows: Array<{ key_id: string; last_used_at: Date | null } & Record<string, unknown>> = await this.db.query(
      `SELECT k.id AS key_id, k.last_used_at, u.*
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.active`,
      [hashApiKey(token)],
    );
    const row = rows[0];
    if (!row) throw new AuthenticationFailed('The API key is unknown, revoked or expired.');
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
      void this.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.key_id]).catch(() => undefined);
    }
    return { user: toUserEntity(row), apiKeyId: row.key_id };
  }

  private async fromJwt(token: string): Promise<Principal> {
    let subject: string | undefined;
    try {
      const { payload } = await jwtVerify(token, this.jwtKey as KeyObject, { issuer: this.jwt.issuer, audience: this.jwt.audience });
      subject = payload.sub;
    } catch (error) {
      throw new AuthenticationFailed(`The JWT was rejected: ${(error as Error).message}`);
    }
    if (!subject) throw new AuthenticationFailed('The JWT has no "sub" claim.');
    const repo = this.db.getRepository(UserEntity);
    const user = isUuid(subject) ? await repo.findOneBy({ id: subject, active: true }) : await repo.findOneBy({ email: String(subject).toLowerCase(), active: true });
    if (!user) throw new AuthenticationFailed('The JWT subject is not a known active user.');
    return { user, apiKeyId: null };
  }
}
