import { createHash } from 'node:crypto';
import { InvalidIdempotencyKey } from './idempotency.errors';

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,255}$/;

/** A key as given (GraphQL argument or parsed header): 1-255 printable ASCII characters, or a refusal. */
export function checkedKey(key: string): string {
  if (!PRINTABLE_ASCII.test(key)) throw new InvalidIdempotencyKey();
  return key;
}

/**
 * The `Idempotency-Key` header's value. The IETF draft makes it a Structured Field string (`"8e03978e-…"`, quotes
 * included); many clients send it bare, as Stripe's API accepts, so both are read. Absent header: no key.
 */
export function keyFromHeader(value: string | undefined): string | null {
  if (value === undefined) return null;
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(value);
  return checkedKey(quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : value);
}

/**
 * SHA-256 of the operation and its input in canonical JSON: object keys sorted, absent and null fields dropped
 * (GraphQL treats them alike), arrays in their order. Two requests with the same hash ask for the same thing.
 */
export function payloadHash(operation: string, input: unknown): string {
  return createHash('sha256').update(operation).update('\n').update(canonicalJson(input)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const fields = Object.keys(object).filter((k) => object[k] !== undefined && object[k] !== null).sort();
    return `{${fields.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
