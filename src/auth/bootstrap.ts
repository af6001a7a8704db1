import type { Logger } from 'pino';
import { BUILT_IN_ADMIN_ID } from '../core/ids';
import type { ApiKeyService } from './api-key.service';

/**
 * Registers ADMIN_API_KEY for the built-in admin, or, when none is configured and the admin has no usable key,
 * creates one and returns it so the first start can show it once. A configured key that was revoked stays revoked
 * (the server still starts, so other keys keep working) and one warning says so.
 */
export async function ensureAdminKey(apiKeys: ApiKeyService, configuredKey: string | undefined, log: Logger): Promise<string | null> {
  if (configuredKey) {
    const outcome = await apiKeys.ensureKey(BUILT_IN_ADMIN_ID, 'ADMIN_API_KEY', configuredKey);
    if (outcome.state === 'revoked') {
      const { id, prefix, revokedAt } = outcome.apiKey;
      log.warn({ apiKeyId: id, apiKeyPrefix: prefix, revokedAt },
        'ADMIN_API_KEY was revoked and stays revoked: requests with it are refused. Set ADMIN_API_KEY to a new key (or remove it and use `countersign apikey create`).');
    }
    return null;
  }
  if (await apiKeys.hasActiveKey(BUILT_IN_ADMIN_ID)) return null;
  const { key } = await apiKeys.create({ userId: BUILT_IN_ADMIN_ID, name: 'first start' });
  return key;
}
