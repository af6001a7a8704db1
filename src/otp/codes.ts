import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { OtpCodeType } from './otp-request.entity';

const ALPHABETS: Record<OtpCodeType, string> = {
  NUMERIC: '0123456789',
  ALPHABETIC: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ALPHANUMERIC: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
};

/** A code from the CSPRNG; `randomInt` rejects out-of-range draws, so every symbol is equally likely (no modulo bias). */
export function generateCode(length: number, type: OtpCodeType): string {
  const alphabet = ALPHABETS[type];
  let code = '';
  for (let i = 0; i < length; i += 1) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** Letter codes compare case-insensitively; digits are unaffected. */
export function normaliseCode(code: string): string {
  return code.trim().toUpperCase();
}

/** The type a caller-supplied code has, so comparisons treat it like a generated one. */
export function codeTypeOf(code: string): OtpCodeType {
  if (/^\d+$/.test(code)) return 'NUMERIC';
  if (/^[A-Za-z]+$/.test(code)) return 'ALPHABETIC';
  return 'ALPHANUMERIC';
}

/** Hashes and seals codes with keys derived from SECRET_KEY. */
export class CodeHasher {
  private readonly hmacKey: Buffer;
  private readonly sealKey: Buffer;

  constructor(secretKey: string) {
    this.hmacKey = createHash('sha256').update(`otp-hmac:${secretKey}`).digest();
    this.sealKey = createHash('sha256').update(`otp-seal:${secretKey}`).digest();
  }

  /** HMAC-SHA256 bound to the request, so equal codes of two requests never share a hash. */
  hash(otpRequestId: string, code: string): string {
    return createHmac('sha256', this.hmacKey).update(`${otpRequestId}:${normaliseCode(code)}`).digest('hex');
  }

  /** Constant-time comparison of a candidate code with a stored hash. */
  matches(otpRequestId: string, candidate: string, storedHash: string): boolean {
    const expected = Buffer.from(storedHash, 'hex');
    const actual = Buffer.from(this.hash(otpRequestId, candidate), 'hex');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** AES-256-GCM, for the worker that must put the code into a message. */
  seal(code: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(code, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  unseal(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
