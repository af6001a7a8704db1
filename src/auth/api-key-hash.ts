import { createHash, randomBytes } from 'node:crypto';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `cs_` + 8 hex (shown in listings) + `_` + 256 random bits. */
export function generateApiKey(): string {
  return `cs_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}
