import { maskNumber, prefixOf, profileOf } from './number-profile';

describe('number profiles come from the full (max) metadata, offline', () => {
  test.each([
    ['+917977251637', 'IN', 'MOBILE'],
    ['+447400123456', 'GB', 'MOBILE'],
    ['+442079460000', 'GB', 'FIXED_LINE'],
    ['+12025550123', 'US', 'FIXED_LINE_OR_MOBILE'],
    ['+449090901234', 'GB', 'PREMIUM_RATE'],
    ['+34901123456', 'ES', 'SHARED_COST'],
    ['+448001111111', 'GB', 'TOLL_FREE'],
    ['+447640123456', 'GB', 'PAGER'],
    ['+445512345678', 'GB', 'UAN'],
    ['+39330123456789', 'IT', 'VOICEMAIL'], // 12 national digits: only a rule send (record field) can carry it
    ['+447012345678', 'GB', 'PERSONAL_NUMBER'],
  ])('%s is %s %s', (e164, country, type) => {
    expect(profileOf(e164)).toEqual({ e164, country, type, prefix: e164.slice(0, -4) });
  });

  test('a number profiled again (screen, then SENT event) is not parsed again, and its profile cannot be changed', () => {
    const first = profileOf('+917977251638');
    expect(profileOf('+917977251638')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(profileOf('+447400123457')).not.toBe(first);
  });

  test('the prefix is the number without its last four digits; the mask keeps the calling code and last four', () => {
    expect(prefixOf('+919876543210')).toBe('+91987654');
    expect(maskNumber('+919876543210')).toBe('+91******3210');
  });
});
