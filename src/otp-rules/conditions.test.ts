import { findModule } from '../records/modules';
import { checkConditions, compileConditions } from './conditions';
import type { RuleCondition, RuleConditionGroup } from './otp-rule.entity';

const deals = findModule('Deals')!;
const one = (condition: RuleCondition): RuleConditionGroup[] => [{ match: 'ALL', conditions: [condition] }];
const matches = (groups: RuleConditionGroup[], before: Record<string, unknown>, after: Record<string, unknown>) => compileConditions(groups)(before, after);

describe('condition operators', () => {
  test.each([
    [{ field: 'stage', operator: 'EQUALS', value: 'closed won' }, {}, { stage: 'Closed Won' }, true],
    [{ field: 'stage', operator: 'EQUALS', value: 'Proposal' }, {}, { stage: 'Closed Won' }, false],
    [{ field: 'stage', operator: 'NOT_EQUALS', value: 'Proposal' }, {}, { stage: 'Closed Won' }, true],
    [{ field: 'name', operator: 'CONTAINS', value: 'BIG' }, {}, { name: 'A big deal' }, true],
    [{ field: 'name', operator: 'STARTS_WITH', value: 'big' }, {}, { name: 'A big deal' }, false],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, {}, { amount: 1000.01 }, true],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, {}, {}, false],
    [{ field: 'amount', operator: 'LESS_THAN', value: 1000 }, {}, { amount: 5 }, true],
    [{ field: 'closeDate', operator: 'LESS_THAN', value: '2025-01-01' }, {}, { closeDate: '2024-12-31' }, true],
    [{ field: 'amount', operator: 'IS_EMPTY' }, {}, {}, true],
    [{ field: 'amount', operator: 'IS_NOT_EMPTY' }, {}, { amount: 0 }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED' }, { stage: 'Proposal' }, { stage: 'Proposal' }, false],
    [{ field: 'stage', operator: 'HAS_CHANGED' }, { stage: 'Proposal' }, { stage: 'Negotiation' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { stage: 'Proposal' }, { stage: 'Closed Won' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { stage: 'Closed Won' }, { stage: 'Closed Won' }, false],
    [{ field: 'stage', operator: 'HAS_CHANGED_FROM', value: 'Negotiation' }, { stage: 'Negotiation' }, { stage: 'Closed Lost' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_FROM', value: 'Negotiation' }, { stage: 'Proposal' }, { stage: 'Closed Lost' }, false],
  ] as Array<[RuleCondition, Record<string, unknown>, Record<string, unknown>, boolean]>)('%j on %j → %j is %p', (condition, before, after, expected) => {
    expect(matches(one(condition), before, after)).toBe(expected);
  });
});

test('groups: ALL needs every condition, ANY one of them, and every group must match', () => {
  const groups: RuleConditionGroup[] = [
    { match: 'ALL', conditions: [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { field: 'amount', operator: 'GREATER_THAN', value: 100 }] },
    { match: 'ANY', conditions: [{ field: 'probability', operator: 'LESS_THAN', value: 50 }, { field: 'name', operator: 'CONTAINS', value: 'vip' }] },
  ];
  const before = { stage: 'Proposal' };
  expect(matches(groups, before, { stage: 'Closed Won', amount: 500, name: 'VIP order' })).toBe(true);
  expect(matches(groups, before, { stage: 'Closed Won', amount: 500, probability: 10 })).toBe(true);
  expect(matches(groups, before, { stage: 'Closed Won', amount: 500, probability: 90 })).toBe(false);
  expect(matches(groups, before, { stage: 'Closed Won', amount: 50, name: 'VIP' })).toBe(false);
});

test('checkConditions accepts well-typed conditions and needs at least one', () => {
  expect(checkConditions(deals, one({ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }))).toEqual([]);
  expect(checkConditions(deals, [])[0]).toMatchObject({ code: 'REQUIRED', field: ['conditions'] });
});
