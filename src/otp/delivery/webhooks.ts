import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Request } from 'express';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../core/config';
import { queryRows, type Queryable } from '../../db/sql';
import type { EventPublisher } from '../../events/event-publisher';
import { otpDeliveryUpdated } from '../otp.events';
import { recordProviderStatus, type EarlyStatusBounds, type ProviderStatus } from './early-statuses';

type WebhookConfig = Pick<AppConfig, 'PUBLIC_URL' | 'TWILIO_AUTH_TOKEN' | 'WHATSAPP_APP_SECRET' | 'WHATSAPP_VERIFY_TOKEN'> & EarlyStatusBounds;

/** What a callback that failed a delivery asks of the otp service: a failed workflow step's next step is due now. */
export interface WorkflowSteps {
  bringNextStepsForward(tx: Queryable, failedDeliveryIds: string[]): Promise<unknown>;
}

/** Provider status callbacks; each checks its provider's signature before touching a delivery. */
export function webhooksRouter(db: DataSource, config: WebhookConfig, bodyLimit: string, events: EventPublisher, steps: WorkflowSteps): express.Router {
  const router = express.Router();

  router.post('/twilio', express.urlencoded({ extended: false, limit: bodyLimit }), async (req, res) => {
    if (!config.TWILIO_AUTH_TOKEN) return void res.status(404).json({ status: false, message: 'Twilio is not configured.' });
    const params = (req.body ?? {}) as Record<string, string>;
    if (!validTwilioSignature(config.TWILIO_AUTH_TOKEN, publicUrl(req, config), params, req.get('x-twilio-signature'))) {
      return void res.status(403).json({ status: false, message: 'The X-Twilio-Signature header does not match.' });
    }
    const status = ({ delivered: 'DELIVERED', failed: 'FAILED', undelivered: 'FAILED' } as Record<string, ProviderStatus>)[params.MessageStatus];
    if (status && params.MessageSid) {
      const error = status === 'FAILED' ? `Twilio reported ${params.MessageStatus}${params.ErrorCode ? ` (error ${params.ErrorCode})` : ''}.` : null;
      await recordAndPublish(db, events, steps, config, 'twilio', params.MessageSid, status, error, params.MessageStatus);
    }
    res.status(204).end();
  });

  // Meta's subscription handshake.
  router.get('/whatsapp', (req, res) => {
    const ok = config.WHATSAPP_VERIFY_TOKEN && req.query['hub.mode'] === 'subscribe' && req.query['hub.verify_token'] === config.WHATSAPP_VERIFY_TOKEN;
    if (!ok) return void res.status(403).json({ status: false, message: 'The verify token does not match.' });
    res.type('text/plain').send(String(req.query['hub.challenge'] ?? ''));
  });

  router.post('/whatsapp', express.raw({ type: () => true, limit: bodyLimit }), async (req, res) => {
    if (!config.WHATSAPP_APP_SECRET) return void res.status(404).json({ status: false, message: 'WhatsApp webhooks are not configured.' });
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const expected = `sha256=${createHmac('sha256', config.WHATSAPP_APP_SECRET).update(raw).digest('hex')}`;
    if (!safeEqual(expected, req.get('x-hub-signature-256') ?? '')) {
      return void res.status(403).json({ status: false, message: 'The X-Hub-Signature-256 header does not match.' });
    }
    let payload: any;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      return void res.status(400).json({ status: false, message: 'The request body is not valid JSON.' });
    }
    for (const entry of Array.isArray(payload?.entry) ? payload.entry : []) {
      for (const change of Array.isArray(entry?.changes) ? entry.changes : []) {
        for (const s of Array.isArray(change?.value?.statuses) ? change.value.statuses : []) {
          const status = ({ delivered: 'DELIVERED', read: 'DELIVERED', failed: 'FAILED' } as Record<string, ProviderStatus>)[s?.status];
          if (!status || typeof s.id !== 'string') continue;
          const detail = Array.isArray(s.errors) && s.errors[0] ? `: ${String(s.errors[0].title ?? s.errors[0].message ?? s.errors[0].code)}` : '';
          await recordAndPublish(db, events, steps, config, 'meta', s.id, status, status === 'FAILED' ? `WhatsApp reported failed${detail}.` : null, String(s.status));
        }
      }
    }
    res.status(200).json({ status: true });
  });
  return router;
}

/**
 * Records a provider status and, in the same transaction, publishes `otp.delivery.updated` for the delivery it moved
 * (a row this transaction updated carries `updated_at = now()`, the transaction's start).
 */
async function recordAndPublish(db: DataSource, events: EventPublisher, steps: WorkflowSteps, bounds: EarlyStatusBounds, provider: string, messageId: string,
  status: ProviderStatus, error: string | null, providerStatus: string): Promise<void> {
  await db.transaction(async (tx) => {
    if (await recordProviderStatus(tx, bounds, provider, messageId, status, error, providerStatus) !== 'applied') return;
    const moved = await queryRows(tx, 'SELECT * FROM otp_deliveries WHERE provider = $1 AND provider_message_id = $2 AND updated_at = now()', [provider, messageId]);
    await events.publish(tx, moved.map((row) => otpDeliveryUpdated(row, providerStatus)));
    const failedSteps = moved.filter((row) => row.status === 'FAILED' && row.workflow_step !== null).map((row) => row.id as string);
    if (failedSteps.length) await steps.bringNextStepsForward(tx, failedSteps);
  });
}

/** Twilio signs the full URL it called followed by every POST parameter (sorted by name) as name+value, HMAC-SHA1, base64. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params).sort().reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

function validTwilioSignature(authToken: string, url: string, params: Record<string, string>, given: string | undefined): boolean {
  return !!given && safeEqual(twilioSignature(authToken, url, params), given);
}

function publicUrl(req: Request, config: WebhookConfig): string {
  return config.PUBLIC_URL ? new URL(req.originalUrl, config.PUBLIC_URL).toString() : `${req.protocol}://${req.get('host')}${req.originalUrl}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
