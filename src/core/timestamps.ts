const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Reads a date-time the way the API accepts one: ISO 8601 (`2024-05-01`, `2024-05-01T10:00:00Z`,
 * `2024-05-01T10:00:00.123456+05:30`) or Postgres' own text form (`2024-05-01 10:00:00.123456+00`), years 0001–9999,
 * a real calendar day and time of day. Returns the value with an explicit offset (none given means UTC), so Postgres
 * reads it the same whatever the session's time zone; null for anything else (which Postgres would refuse, or read
 * differently from JavaScript's lenient `Date.parse`, e.g. "1").
 */
export function parseTimestamp(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = TIMESTAMP.exec(value);
  if (!match) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', offset] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const calendar = new Date(Date.UTC(2000, month - 1, day)); // a leap year stands in for the month's length…
  const leapDay = month === 2 && day === 29;
  if (year < 1 || month < 1 || month > 12 || day < 1 || calendar.getUTCMonth() !== month - 1) return null;
  if (leapDay && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return null; // …and the year itself decides 29 February
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (offset && offset.toUpperCase() !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    if (Number(digits.slice(0, 2)) > 15 || Number(digits.slice(2) || '0') > 59) return null;
  }
  const zone = !offset || offset.toUpperCase() === 'Z' ? '+00:00' : offset;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${zone}`;
}
