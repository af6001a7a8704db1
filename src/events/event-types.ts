/** Every domain event type, in the words the webhooks and docs/events.md use. */
export const EVENT_TYPES = [
  'otp.sent', 'otp.delivery.updated', 'otp.verified', 'otp.failed_attempt', 'otp.expired', 'otp.canceled', 'otp.fallback',
  'rule.otp_required', 'rule.save_verified',
  'connection.created', 'connection.ended', 'connection.deleted',
  'record.merged',
] as const;

export type EventType = typeof EVENT_TYPES[number];

/**
 * One thing that happened, as a feature publishes it. `subject` names what it happened to (`otp_request:<id>`,
 * `connection:<id>`): webhooks deliver the events of one subject in order. `topics` are what subscriptions listen on
 * (default: the subject); a connection's events also reach both of its records (`record:<id>`).
 * `data` must never hold a code, a secret or an unmasked recipient.
 */
export interface DomainEvent {
  type: EventType;
  subject: string;
  data: Record<string, unknown>;
  topics?: string[];
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
