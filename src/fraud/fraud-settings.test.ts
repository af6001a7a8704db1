import { FraudSettings } from './fraud-settings.cache';
import type { FraudGeoPermissionEntity, FraudSafeListEntryEntity } from './fraud.entity';

const env = { defaultAction: 'ALLOW' as const, allow: ['IN'], block: ['IT', 'IN'], monitor: ['FR'] };
const admin = (country: string, action: 'ALLOW' | 'BLOCK' | 'MONITOR') => ({ country, action, updatedAt: new Date(0), updatedBy: null }) as FraudGeoPermissionEntity;

describe('geo permissions: admin rows win over the environment, * is the default', () => {
  test('the environment alone; a country on two lists is blocked', () => {
    const settings = FraudSettings.from(env, [], []);
    expect(['IN', 'IT', 'FR', 'GB', null].map((c) => settings.geoAction(c))).toEqual(['BLOCK', 'BLOCK', 'MONITOR', 'ALLOW', 'ALLOW']);
    expect(settings.explicitlyAllowed('GB')).toBe(false);
  });

  test('admin rows override countries and the default', () => {
    const settings = FraudSettings.from(env, [admin('IN', 'ALLOW'), admin('*', 'BLOCK')], []);
    expect(['IN', 'IT', 'GB', null].map((c) => settings.geoAction(c))).toEqual(['ALLOW', 'BLOCK', 'BLOCK', 'BLOCK']);
    expect(settings.explicitlyAllowed('IN')).toBe(true);
    expect(settings.geo.find((p) => p.country === 'IN')?.origin).toBe('ADMIN');
  });
});

test('the safe list matches whole numbers and prefixes', () => {
  const entry = (kind: 'NUMBER' | 'PREFIX', value: string) => ({ kind, value }) as FraudSafeListEntryEntity;
  const settings = FraudSettings.from(env, [], [entry('NUMBER', '+447911123456'), entry('PREFIX', '+4490909')]);
  expect(['+447911123456', '+447911123457', '+449090901234', '+44909090'].map((n) => settings.isSafe(n))).toEqual([true, false, true, true]);
});
