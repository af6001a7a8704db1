import type { PropertyDefinition } from './connection-type.entity';
import { checkProperties } from './connection-properties';

const definitions: PropertyDefinition[] = [
  { key: 'amount', label: 'Amount', type: 'NUMBER', required: true, options: [] },
  { key: 'tier', label: 'Tier', type: 'PICKLIST', required: false, options: ['Gold', 'Silver'] },
  { key: 'since', label: 'Since', type: 'DATE', required: false, options: [] },
];

describe('checkProperties', () => {
  test('accepts valid values, trims text and removes keys set to null', () => {
    const result = checkProperties(definitions, { tier: ' Gold ', since: null }, { amount: 5, since: '2020-01-01' });
    expect(result).toEqual({ properties: { amount: 5, tier: 'Gold' }, errors: [] });
  });

  test('reports every problem at once, a missing required value included', () => {
    const result = checkProperties(definitions, { tier: 'Bronze', since: '2020-02-30', extra: 1 });
    expect(result.errors.map((e) => `${e.code}@${e.field?.join('.')}`)).toEqual([
      'INVALID@properties.tier', 'INVALID@properties.since', 'UNKNOWN_FIELD@properties.extra', 'REQUIRED@properties.amount',
    ]);
  });

  test('a required value with a wrong type is INVALID, not also REQUIRED', () => {
    expect(checkProperties(definitions, { amount: '5' }).errors.map((e) => e.code)).toEqual(['INVALID']);
  });

  test('something other than an object is refused as a whole', () => {
    expect(checkProperties(definitions, [1, 2]).errors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['properties'] })]);
  });
});
