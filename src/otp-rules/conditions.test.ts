import { findModule } from '../records/modules';
import { checkConditions, compileConditions } from './conditions';
import type { RuleCondition, RuleConditionGroup } from './otp-rule.entity';

const deals = findModule('Deals')!;
type Fields = Record<string, unknown>;
const one = (condition: RuleCondition): RuleConditionGroup[] => [{ match: 'ALL', conditions: [condition] }];
const enters = (groups: RuleConditionGroup[], before: Fields | null, after: Fields) => compileConditions(groups)(before, after);

describe('attacker: a save that enters the guarded state by each operator (create: no state before)', () => {
  test.each([
    [{ field: 'stage', operator: 'EQUALS', value: 'closed won' }, { stage: 'Closed Won' }, true],
    [{ field: 'stage', operator: 'EQUALS', value: 'Proposal' }, { stage: 'Closed Won' }, false],
    [{ field: 'stage', operator: 'NOT_EQUALS', value: 'Proposal' }, { stage: 'Closed Won' }, true],
    [{ field: 'name', operator: 'CONTAINS', value: 'BIG' }, { name: 'A big deal' }, true],
    [{ field: 'name', operator: 'STARTS_WITH', value: 'big' }, { name: 'A big deal' }, false],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, { amount: 1000.01 }, true],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, {}, false],
    [{ field: 'amount', operator: 'LESS_THAN', value: 1000 }, { amount: 5 }, true],
    [{ field: 'closeDate', operator: 'LESS_THAN', value: '2025-01-01' }, { closeDate: '2024-12-31' }, true],
    [{ field: 'amount', operator: 'IS_EMPTY' }, {}, true],
    [{ field: 'amount', operator: 'IS_NOT_EMPTY' }, { amount: 0 }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED' }, { stage: 'Proposal' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { stage: 'Closed Won' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_FROM', value: 'Negotiation' }, { stage: 'Closed Won' }, false],
  ] as Array<[RuleCondition, Fields, boolean]>)('%j creating %j → %p', (condition, after, expected) => {
    expect(enters(one(condition), null, after)).toBe(expected);
  });
});

describe('attacker: rules never lock records — staying in a state is not entering it', () => {
  // [condition, before, after, enters]: every state operator enters only on false → true; HAS_CHANGED* as before.
  test.each([
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, { amount: 500 }, { amount: 5000 }, true],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, { amount: 2000 }, { amount: 5000 }, false],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }, { amount: 2000, name: 'a' }, { amount: 2000, name: 'b' }, false],
    [{ field: 'amount', operator: 'LESS_THAN', value: 10 }, { amount: 50 }, { amount: 5 }, true],
    [{ field: 'amount', operator: 'LESS_THAN', value: 10 }, { amount: 5 }, { amount: 1 }, false],
    [{ field: 'stage', operator: 'EQUALS', value: 'Closed Won' }, { stage: 'Proposal' }, { stage: 'Closed Won' }, true],
    [{ field: 'stage', operator: 'EQUALS', value: 'Closed Won' }, { stage: 'Closed Won', name: 'a' }, { stage: 'Closed Won', name: 'b' }, false],
    [{ field: 'stage', operator: 'NOT_EQUALS', value: 'Proposal' }, { stage: 'Proposal' }, { stage: 'Negotiation' }, true],
    [{ field: 'stage', operator: 'NOT_EQUALS', value: 'Proposal' }, { stage: 'Negotiation' }, { stage: 'Closed Won' }, false],
    [{ field: 'name', operator: 'CONTAINS', value: 'vip' }, { name: 'Order' }, { name: 'VIP Order' }, true],
    [{ field: 'name', operator: 'CONTAINS', value: 'vip' }, { name: 'VIP Order' }, { name: 'VIP Order 2' }, false],
    [{ field: 'name', operator: 'STARTS_WITH', value: 'vip' }, { name: 'Order' }, { name: 'VIP Order' }, true],
    [{ field: 'name', operator: 'STARTS_WITH', value: 'vip' }, { name: 'VIP a' }, { name: 'VIP b' }, false],
    [{ field: 'amount', operator: 'IS_EMPTY' }, { amount: 5 }, {}, true],
    [{ field: 'amount', operator: 'IS_EMPTY' }, { name: 'a' }, { name: 'b' }, false],
    [{ field: 'amount', operator: 'IS_NOT_EMPTY' }, {}, { amount: 0 }, true],
    [{ field: 'amount', operator: 'IS_NOT_EMPTY' }, { amount: 1 }, { amount: 2 }, false],
    [{ field: 'stage', operator: 'HAS_CHANGED' }, { stage: 'Proposal' }, { stage: 'Proposal' }, false],
    [{ field: 'stage', operator: 'HAS_CHANGED' }, { stage: 'Proposal' }, { stage: 'Negotiation' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { stage: 'Proposal' }, { stage: 'Closed Won' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { stage: 'Closed Won' }, { stage: 'Closed Won' }, false],
    [{ field: 'stage', operator: 'HAS_CHANGED_FROM', value: 'Negotiation' }, { stage: 'Negotiation' }, { stage: 'Closed Lost' }, true],
    [{ field: 'stage', operator: 'HAS_CHANGED_FROM', value: 'Negotiation' }, { stage: 'Proposal' }, { stage: 'Closed Lost' }, false],
  ] as Array<[RuleCondition, Fields, Fields, boolean]>)('%j on %j → %j enters: %p', (condition, before, after, expected) => {
    expect(enters(one(condition), before, after)).toBe(expected);
  });
});

describe('attacker: mixed case and surrounding spaces never slip past an operator', () => {
  test.each([
    ['EQUALS', { field: 'name', operator: 'EQUALS', value: ' Big Deal ' }, { name: 'x' }, { name: 'bIG dEAL' }, true],
    ['EQUALS on blank text', { field: 'name', operator: 'EQUALS', value: 'big deal' }, { name: 'x' }, { name: '   ' }, false],
    ['NOT_EQUALS', { field: 'name', operator: 'NOT_EQUALS', value: ' BIG deal' }, { name: 'other' }, { name: 'big DEAL  ' }, false],
    ['CONTAINS', { field: 'name', operator: 'CONTAINS', value: ' VIP ' }, { name: 'x' }, { name: 'a vip order' }, true],
    ['STARTS_WITH (value and field trimmed)', { field: 'name', operator: 'STARTS_WITH', value: ' Vip' }, { name: 'x' }, { name: '  vIP order' }, true],
    ['IS_EMPTY: whitespace-only counts as empty', { field: 'name', operator: 'IS_EMPTY' }, { name: 'x' }, { name: '   ' }, true],
    ['IS_NOT_EMPTY: whitespace-only is not a value', { field: 'name', operator: 'IS_NOT_EMPTY' }, {}, { name: ' \t ' }, false],
    ['HAS_CHANGED: "Paid" → " paid " is no change', { field: 'name', operator: 'HAS_CHANGED' }, { name: 'Paid' }, { name: ' paid ' }, false],
    ['HAS_CHANGED: blank → absent is no change', { field: 'name', operator: 'HAS_CHANGED' }, { name: '  ' }, {}, false],
    ['HAS_CHANGED_TO', { field: 'name', operator: 'HAS_CHANGED_TO', value: ' closed WON ' }, { name: 'Proposal' }, { name: 'Closed Won' }, true],
    ['HAS_CHANGED_TO: only a case change', { field: 'name', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { name: 'closed won' }, { name: 'Closed Won' }, false],
    ['HAS_CHANGED_FROM', { field: 'name', operator: 'HAS_CHANGED_FROM', value: 'NEGOTIATION ' }, { name: ' negotiation' }, { name: 'Closed Lost' }, true],
    ['GREATER_THAN on a date with spaces', { field: 'closeDate', operator: 'GREATER_THAN', value: '2025-01-01' }, {}, { closeDate: ' 2025-02-01 ' }, true],
  ] as Array<[string, RuleCondition, Fields, Fields, boolean]>)('%s', (_name, condition, before, after, expected) => {
    expect(enters(one(condition), before, after)).toBe(expected);
  });
});

describe('attacker: mixed groups — a change hidden behind a state that already held', () => {
  const bigOrPaid: RuleConditionGroup[] = [{ match: 'ANY', conditions: [
    { field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' },
    { field: 'amount', operator: 'GREATER_THAN', value: 10000 },
  ] }];

  test('ANY: the HAS_CHANGED_TO alternative still guards a record already in the other alternative', () => {
    expect(enters(bigOrPaid, { stage: 'Proposal', amount: 20000 }, { stage: 'Closed Won', amount: 20000 })).toBe(true);
  });

  test('ANY: staying in the state alternative (other fields edited) is not entering', () => {
    expect(enters(bigOrPaid, { stage: 'Proposal', amount: 20000, name: 'a' }, { stage: 'Proposal', amount: 30000, name: 'b' })).toBe(false);
  });

  test('ANY of states: moving from one guarded alternative into another enters the new one', () => {
    const wonOrLost: RuleConditionGroup[] = [{ match: 'ANY', conditions: [
      { field: 'stage', operator: 'EQUALS', value: 'Closed Won' }, { field: 'stage', operator: 'EQUALS', value: 'Closed Lost' },
    ] }];
    expect(enters(wonOrLost, { stage: 'Closed Won' }, { stage: 'Closed Lost' })).toBe(true);
    expect(enters(wonOrLost, { stage: 'Closed Won', name: 'a' }, { stage: 'Closed Won', name: 'b' })).toBe(false);
  });

  test('ALL: HAS_CHANGED_TO with a state that already held still matches (closing a big deal)', () => {
    const bigWin: RuleConditionGroup[] = [{ match: 'ALL', conditions: [
      { field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { field: 'amount', operator: 'GREATER_THAN', value: 100 },
    ] }];
    expect(enters(bigWin, { stage: 'Proposal', amount: 500 }, { stage: 'Closed Won', amount: 500 })).toBe(true);
    expect(enters(bigWin, { stage: 'Proposal', amount: 50 }, { stage: 'Closed Won', amount: 50 })).toBe(false);
  });

  test('ALL of states: entering the conjunction by its last missing part matches; raising a part already held does not', () => {
    const wonAndBig: RuleConditionGroup[] = [
      { match: 'ALL', conditions: [{ field: 'stage', operator: 'EQUALS', value: 'Closed Won' }] },
      { match: 'ALL', conditions: [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }] },
    ];
    expect(enters(wonAndBig, { stage: 'Closed Won', amount: 500 }, { stage: 'Closed Won', amount: 1500 })).toBe(true);
    expect(enters(wonAndBig, { stage: 'Closed Won', amount: 1500 }, { stage: 'Closed Won', amount: 2500 })).toBe(false);
    expect(enters(wonAndBig, { stage: 'Proposal', amount: 1500 }, { stage: 'Proposal', amount: 2500 })).toBe(false);
  });

  test('every group must hold after the save', () => {
    const groups: RuleConditionGroup[] = [
      { match: 'ALL', conditions: [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { field: 'amount', operator: 'GREATER_THAN', value: 100 }] },
      { match: 'ANY', conditions: [{ field: 'probability', operator: 'LESS_THAN', value: 50 }, { field: 'name', operator: 'CONTAINS', value: 'vip' }] },
    ];
    const before = { stage: 'Proposal' };
    expect(enters(groups, before, { stage: 'Closed Won', amount: 500, name: 'VIP order' })).toBe(true);
    expect(enters(groups, before, { stage: 'Closed Won', amount: 500, probability: 10 })).toBe(true);
    expect(enters(groups, before, { stage: 'Closed Won', amount: 500, probability: 90 })).toBe(false);
    expect(enters(groups, before, { stage: 'Closed Won', amount: 50, name: 'VIP' })).toBe(false);
  });
});

describe('attacker: rule values that would make a text operator match everything', () => {
  test('CONTAINS / STARTS_WITH refuse a blank value; picklist values are accepted in any case and spacing', () => {
    expect(checkConditions(deals, one({ field: 'name', operator: 'CONTAINS', value: '  ' }))[0]).toMatchObject({ code: 'INVALID', field: ['conditions', '0', 'conditions', '0', 'value'] });
    expect(checkConditions(deals, one({ field: 'name', operator: 'STARTS_WITH', value: '' }))[0]).toMatchObject({ code: 'INVALID' });
    expect(checkConditions(deals, one({ field: 'stage', operator: 'HAS_CHANGED_TO', value: ' closed won ' }))).toEqual([]);
    expect(checkConditions(deals, one({ field: 'stage', operator: 'EQUALS', value: 'Closed' }))[0]).toMatchObject({ code: 'INVALID' });
  });

  test('checkConditions accepts well-typed conditions and needs at least one', () => {
    expect(checkConditions(deals, one({ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }))).toEqual([]);
    expect(checkConditions(deals, [])[0]).toMatchObject({ code: 'REQUIRED', field: ['conditions'] });
  });
});

describe('attacker: 1,000 rules on a module — the shortcut for saves that leave every read field as it was never hides a match', () => {
  // The documented meaning, written out independently of compileConditions: every group holds after the save, and at
  // least one group was entered (an ALL group that did not hold for (before, before); an ANY group with a condition that
  // holds now and did not hold for (before, before)). Text is compared trimmed and case-insensitively; blank is empty.
  const empty = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  const norm = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);
  const same = (a: unknown, b: unknown) => (empty(a) && empty(b)) || (!empty(a) && !empty(b) && norm(a) === norm(b));
  const holds = ({ field, operator, value }: RuleCondition, b: Fields, a: Fields): boolean => {
    switch (operator) {
      case 'EQUALS': return same(a[field], value);
      case 'NOT_EQUALS': return !same(a[field], value);
      case 'GREATER_THAN': return !empty(a[field]) && (a[field] as number) > (value as number);
      case 'LESS_THAN': return !empty(a[field]) && (a[field] as number) < (value as number);
      case 'IS_EMPTY': return empty(a[field]);
      case 'IS_NOT_EMPTY': return !empty(a[field]);
      case 'HAS_CHANGED': return !same(b[field], a[field]);
      case 'HAS_CHANGED_TO': return !same(b[field], a[field]) && same(a[field], value);
      case 'HAS_CHANGED_FROM': return !same(b[field], a[field]) && same(b[field], value);
      default: throw new Error(`no reference for ${operator}`);
    }
  };
  const reference = (groups: RuleConditionGroup[], b: Fields, a: Fields) => {
    let entered = false;
    for (const g of groups) {
      const now = g.conditions.map((c) => holds(c, b, a));
      const then = g.conditions.map((c) => holds(c, b, b));
      if (g.match === 'ALL' ? !now.every(Boolean) : !now.some(Boolean)) return false;
      if (g.match === 'ALL' ? !then.every(Boolean) : now.some((n, i) => n && !then[i])) entered = true;
    }
    return entered;
  };
  const OPERATORS = ['EQUALS', 'NOT_EQUALS', 'GREATER_THAN', 'LESS_THAN', 'IS_EMPTY', 'IS_NOT_EMPTY', 'HAS_CHANGED', 'HAS_CHANGED_TO', 'HAS_CHANGED_FROM'] as const;
  const FIELDS = ['stage', 'probability', 'amount', 'name'];
  const VALUES = [null, '', ' Won ', 'won', 'Lost', 0, 5, 50];
  let seed = 42;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const condition = (): RuleCondition => {
    const operator = pick(OPERATORS);
    const numeric = operator === 'GREATER_THAN' || operator === 'LESS_THAN';
    const value = ['IS_EMPTY', 'IS_NOT_EMPTY', 'HAS_CHANGED'].includes(operator) ? undefined : numeric ? pick([0, 5, 50]) : pick(['won', 'Lost', ' Won ']);
    return { field: pick(FIELDS), operator, ...(value === undefined ? {} : { value }) } as RuleCondition;
  };
  const fields = (): Fields => Object.fromEntries(FIELDS.filter(() => random() < 0.8).map((f) => [f, pick(VALUES)]));

  test('5,000 random rules and saves (some changing read fields, some only others): the same answer as the documented meaning', () => {
    let matched = 0;
    let untouched = 0;
    for (let i = 0; i < 5000; i += 1) {
      const groups: RuleConditionGroup[] = Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({
        match: pick(['ALL', 'ANY'] as const), conditions: Array.from({ length: 1 + Math.floor(random() * 3) }, condition),
      }));
      const before = fields();
      const after = random() < 0.5 ? fields() : { ...before, [pick(FIELDS)]: pick(VALUES) };
      const read = groups.flatMap((g) => g.conditions.map((c) => c.field));
      if (read.every((f) => Object.is(before[f], after[f]))) untouched += 1;
      const expected = reference(groups, before, after);
      if (expected) matched += 1;
      expect([i, enters(groups, before, after)]).toEqual([i, expected]);
    }
    // both kinds of case were exercised
    expect(matched).toBeGreaterThan(100);
    expect(untouched).toBeGreaterThan(100);
  });
});
