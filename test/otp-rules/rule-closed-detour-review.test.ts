import { ADMIN_CODE, RuleWorld } from './rule-world';

// allowClosedRecords: false skips saves that keep a record closed. A rule that reads the module's closed-state field is
// about those states, closed ones included: it checks every save, so moving between closed states cannot slip past it.
const w = new RuleWorld();
beforeAll(() => w.start('rule_closed_detour_review'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());
const { codes } = RuleWorld;

/** The rule's OTP goes to the acting user's email (the admin: a fixed test code). */
const invoiceRule = (conditions: unknown[]) => w.createRule({ module: 'Invoices', channels: ['EMAIL'], recipientField: null, conditions: [{ match: 'ALL', conditions }] });

describe('attacker: reaches a closed guarded state through another closed state (Sent → Cancelled → Paid)', () => {
  test('"status HAS_CHANGED_TO Paid": the Cancelled → Paid save needs the OTP like Sent → Paid does', async () => {
    const rule = await invoiceRule([{ field: 'status', operator: 'HAS_CHANGED_TO', value: 'Paid' }]);
    const id = await w.create('Invoices', { subject: 'INV-12', status: 'Sent', amount: 100 });
    expect(codes(await w.update(id, { status: 'Paid' }))).toEqual(['OTP_REQUIRED']);
    expect(codes(await w.update(id, { status: 'Cancelled' }))).toEqual([]);
    const detour = await w.update(id, { status: 'Paid' });
    expect(codes(detour)).toEqual(['OTP_REQUIRED']);
    expect(detour.userErrors[0].details.ruleId).toBe(rule.id);
    expect((await w.fieldsOf(id)).status).toBe('Cancelled');
    await w.saveWithOtp(rule, id, { status: 'Paid' }, ADMIN_CODE);
    // the rule guards entering Paid, it does not lock a paid invoice
    expect(codes(await w.update(id, { dueDate: '2030-01-31' }))).toEqual([]);
  });

  test('deals: Negotiation → Closed Lost → Closed Won needs the OTP of a "stage HAS_CHANGED_TO Closed Won" rule', async () => {
    const rule = await w.createRule({ module: 'Deals', channels: ['EMAIL'], recipientField: null,
      conditions: [{ match: 'ALL', conditions: [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }] }] });
    const id = await w.create('Deals', { name: 'Detour deal', stage: 'Negotiation', amount: 900 });
    expect(codes(await w.update(id, { stage: 'Closed Lost' }))).toEqual([]);
    expect(codes(await w.update(id, { stage: 'Closed Won' }))).toEqual(['OTP_REQUIRED']);
    await w.saveWithOtp(rule, id, { stage: 'Closed Won' }, ADMIN_CODE);
  });

  test('"status EQUALS Paid and total above 1,000": raising the total of a paid invoice enters the state and needs the OTP', async () => {
    const rule = await invoiceRule([{ field: 'status', operator: 'EQUALS', value: 'Paid' }, { field: 'amount', operator: 'GREATER_THAN', value: 1000 }]);
    const id = await w.create('Invoices', { subject: 'INV-13', status: 'Sent', amount: 100 });
    expect(codes(await w.update(id, { status: 'Paid' }))).toEqual([]); // 100 is below the limit
    expect(codes(await w.update(id, { amount: 50000 }))).toEqual(['OTP_REQUIRED']);
    expect((await w.fieldsOf(id)).amount).toBe(100);
    await w.saveWithOtp(rule, id, { amount: 50000 }, ADMIN_CODE);
    expect(codes(await w.update(id, { amount: 60000 }))).toEqual([]); // stays in the state
  });

  test('a rule that does not read the state field still skips edits of a closed record (checked when it reopens)', async () => {
    const rule = await invoiceRule([{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }]);
    const id = await w.create('Invoices', { subject: 'INV-14', status: 'Sent', amount: 100 });
    expect(codes(await w.update(id, { status: 'Cancelled' }))).toEqual([]);
    expect(codes(await w.update(id, { amount: 50000 }))).toEqual([]);
    expect(codes(await w.update(id, { status: 'Paid' }))).toEqual([]); // closed to closed: still skipped
    expect(codes(await w.update(id, { status: 'Sent' }))).toEqual(['OTP_REQUIRED']);
    await w.saveWithOtp(rule, id, { status: 'Sent' }, ADMIN_CODE);
  });
});
