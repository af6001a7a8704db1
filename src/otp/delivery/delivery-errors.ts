import type { DeliveryErrorCategory, OtpDeliveryEntity } from '../otp-delivery.entity';
import { ProviderError } from './providers';

export type { DeliveryErrorCategory } from '../otp-delivery.entity';

export const CLIENT_MESSAGES: Record<DeliveryErrorCategory, string> = {
  PROVIDER_UNREACHABLE: 'The message provider could not be reached.',
  PROVIDER_REJECTED: 'The message provider answered with an error and did not take the message.',
  TIMEOUT: 'The message provider did not answer in time.',
  UNDELIVERED: 'The message provider took the message but reported that it could not be delivered.',
  INTERRUPTED: 'The server stopped during the provider call; the message may or may not have been sent, and was not sent again.',
  REQUEST_CLOSED: 'The OTP was no longer pending when its message was due, so it was not sent.',
  TEMPLATE_ERROR: 'The message template could not be rendered.',
  INTERNAL: 'The message could not be sent because of an internal error.',
};

/** A message template that is missing or does not render; never worth a different provider. */
export class TemplateRenderError extends Error {}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'UND_ERR_SOCKET', 'ECONNECTION', 'ESOCKET', 'EDNS', 'ETLS']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** nodemailer's codes for an SMTP server that answered and refused. */
const SMTP_REFUSAL_CODES = new Set(['EAUTH', 'EENVELOPE', 'EMESSAGE', 'EPROTOCOL']);

export function categorize(error: unknown): DeliveryErrorCategory {
  if (error instanceof TemplateRenderError) return 'TEMPLATE_ERROR';
  if (error instanceof ProviderError) return 'PROVIDER_REJECTED';
  const { name, code, responseCode, cause } = (error ?? {}) as { name?: unknown; code?: unknown; responseCode?: unknown; cause?: { code?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return 'TIMEOUT';
  // fetch wraps the network error as "fetch failed" with the reason in `cause`; nodemailer puts it on the error
  for (const reason of [code, cause?.code]) {
    if (typeof reason !== 'string') continue;
    if (TIMEOUT_CODES.has(reason)) return 'TIMEOUT';
    if (NETWORK_CODES.has(reason)) return 'PROVIDER_UNREACHABLE';
    if (SMTP_REFUSAL_CODES.has(reason)) return 'PROVIDER_REJECTED';
  }
  if (typeof responseCode === 'number') return 'PROVIDER_REJECTED';
  return 'INTERNAL';
}

/** The full reason, for the log and the delivery's `error` column only. */
export function describeFailure(error: unknown): string {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  if (name === 'TimeoutError' || name === 'AbortError') return 'The provider did not answer in time (timeout).';
  // fetch hides the network error behind "fetch failed"; keep the reason (ECONNREFUSED, ENOTFOUND, ...)
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (message === 'fetch failed' && typeof cause?.code === 'string') return `The provider could not be reached (${cause.code}).`;
  if (typeof message !== 'string') return String(error).slice(0, 1000);
  return message.slice(0, 1000);
}

/** What a client may read of a delivery's failure: the category and its fixed message. */
export function clientFailure(delivery: Pick<OtpDeliveryEntity, 'error' | 'errorCategory'>): { errorCategory: DeliveryErrorCategory | null; error: string | null } {
  const errorCategory = delivery.errorCategory ?? (delivery.error ? 'INTERNAL' : null);
  return { errorCategory, error: errorCategory ? CLIENT_MESSAGES[errorCategory] : null };
}
