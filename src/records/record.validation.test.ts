import { ErrorCode } from '../core/errors';
import { findModule } from './modules';
import { checkFields, isIsoDate } from './record.validation';

const contacts = findModule('Contacts')!;
const deals = findModule('Deals')!;
const ORG_ID = '0b7d3c1e-2f4a-4c5d-8e6f-7a8b9c0d1e2f';

const codesOf = (check: ReturnType<typeof checkFields>) => check.errors.map((e) => `${e.code}@${e.field!.join('.')}`);

describe('checkFields: successful cases', () => {
  test('normalises every field type: text and email trimmed, reference lower-cased and listed for the existence check', () => {
    const check = checkFields(contacts, {
      firstName: '  Asha ', lastName: 'Rao', email: ' asha@example.com ', mobile: '+91 79772 51637', birthday: '1990-02-28',
      doNotCall: true, contactStatus: 'Active', organizationId: ORG_ID.toUpperCase(),
    });
    expect(check.errors).toEqual([]);
    expect(check.fields).toEqual({
      firstName: 'Asha', lastName: 'Rao', email: 'asha@example.com', mobile: '+91 79772 51637', birthday: '1990-02-28',
      doNotCall: true, contactStatus: 'Active', organizationId: ORG_ID,
    });
    expect(check.references).toEqual([{ field: 'organizationId', id: ORG_ID, modules: ['Organizations'] }]);
  });

  test('on update the saved fields stand in for omitted mandatory ones; null or "" removes a field', () => {
    const check = checkFields(contacts, { title: 'CTO', email: null, mobile: '' }, { lastName: 'Rao', email: 'a@example.com', mobile: '123456789' });
    expect(check.errors).toEqual([]);
    expect(check.fields).toEqual({ lastName: 'Rao', title: 'CTO' });
  });

  test('currency takes two decimals at most; numbers any finite value', () => {
    expect(checkFields(deals, { name: 'Big', stage: 'Proposal', amount: 10.25, probability: 33.3 }).errors).toEqual([]);
  });
});

describe('checkFields: every bad field is reported at once, naming it', () => {
  test('unknown, wrongly typed, out-of-list and missing mandatory fields together', () => {
    const check = checkFields(deals, {
      name: 42, amount: 1.005, closeDate: '2024-02-30', contactId: 'not-a-uuid', stage: 'Won', probability: Number.NaN, colour: 'red',
    });
    expect(codesOf(check)).toEqual([
      'INVALID@fields.name', 'INVALID@fields.amount', 'INVALID@fields.closeDate', 'INVALID@fields.contactId', 'INVALID@fields.stage',
      'INVALID@fields.probability', 'UNKNOWN_FIELD@fields.colour',
    ]);
    expect(check.errors.map((e) => e.message)).toEqual([
      'Deal Name must be text.',
      'Amount must have at most two decimals.',
      'Expected Close Date must be a date as YYYY-MM-DD.',
      'Contact must be the id of a record.',
      'Sales Stage must be one of: Prospecting, Qualification, Proposal, Negotiation, Closed Won, Closed Lost.',
      'Probability (%) must be a number.',
      'Deals has no field "colour".',
    ]);
    expect(check.references).toEqual([]);
  });

  test('a mandatory field that is missing is REQUIRED; one that is present but invalid is reported once, as INVALID', () => {
    expect(codesOf(checkFields(deals, { name: 'x' }))).toEqual(['REQUIRED@fields.stage']);
    expect(codesOf(checkFields(deals, { name: 'x', stage: 'nope' }))).toEqual(['INVALID@fields.stage']);
    expect(codesOf(checkFields(deals, { name: null, stage: 'Proposal' }, { name: 'Saved', stage: 'Proposal' }))).toEqual(['REQUIRED@fields.name']);
  });

  test('text longer than its limit, emails and phones that are not ones, booleans given as text', () => {
    const check = checkFields(contacts, { lastName: 'x'.repeat(256), email: 'asha@', phone: 'call me', doNotCall: 'yes' });
    expect(check.errors.map((e) => e.message)).toEqual([
      'Last Name must be at most 255 characters.',
      'Email must be a valid email address.',
      'Phone must be a phone number (digits, optionally starting with +).',
      'Do Not Call must be true or false.',
    ]);
  });

  test.each([null, [], 'fields', 7])('fields that are not a JSON object (%j) are one INVALID error, and the saved fields are kept', (change) => {
    const check = checkFields(contacts, change, { lastName: 'Kept' });
    expect(check).toEqual({ fields: { lastName: 'Kept' }, errors: [expect.objectContaining({ code: ErrorCode.INVALID, field: ['fields'] })], references: [] });
  });
});

describe('isIsoDate: a real calendar day as YYYY-MM-DD', () => {
  test.each([['2024-02-29', true], ['2023-02-29', false], ['2024-13-01', false], ['2024-1-01', false], ['2024-01-01T00:00:00Z', false]])('%s → %s', (value, ok) => {
    expect(isIsoDate(value)).toBe(ok);
  });
});
