import { BUILT_IN_ADMIN_ID } from '../common/ids';
import type { ApiKeyService } from './api-key.service';

/**
 * Registers ADMIN_API_KEY for the built-in admin, or, when none is configured and the admin has no usable key,
 * creates one and returns it so the first start can show it once.
 */
export async function ensureAdminKey(apiKeys: ApiKeyService, configuredKey: string | undefined): Promise<string | null> {
  if (configuredKey) {
    await apiKeys.ensureKey(BUILT_IN_ADMIN_ID, 'ADMIN_API_KEY', configuredKey);
    return null;
  }
  if (await apiKeys.hasActiveKey(BUILT_IN_ADMIN_ID)) return null;
  const { key } = await apiKeys.create({ userId: BUILT_IN_ADMIN_ID, name: 'first start' });
  return key;
}
