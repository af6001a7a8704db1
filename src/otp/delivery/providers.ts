import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';
import type { AppConfig } from '../../core/config';

type TwilioConfig = Pick<AppConfig, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_FROM' | 'TWILIO_BASE_URL' | 'PUBLIC_URL' | 'OTP_PROVIDER_TIMEOUT_MS'>;
type MetaWhatsAppConfig = Pick<AppConfig, 'WHATSAPP_BASE_URL' | 'WHATSAPP_PHONE_NUMBER_ID' | 'WHATSAPP_TOKEN' | 'WHATSAPP_TEMPLATE_LANGUAGE' | 'OTP_PROVIDER_TIMEOUT_MS'>;
/** The provider settings only; the rest of the configuration never reaches the providers. */
export type ProviderConfig = TwilioConfig & MetaWhatsAppConfig & Pick<AppConfig, 'EMAIL_PROVIDER' | 'SMS_PROVIDER' | 'WHATSAPP_PROVIDER' | 'SMTP_URL' | 'SMTP_FROM'>;
import type { OtpChannel } from '../otp-request.entity';

/** One rendered message, ready for a provider. */
export interface OutgoingMessage {
  channel: OtpChannel;
  /** E.164 mobile or email address. */
  to: string;
  text: string;
  subject?: string;
  html?: string | null;
  fromName?: string | null;
  /** The template used: WhatsApp Cloud sends its (Meta-approved) template of the same name. */
  templateId: string;
  code: string;
}

export interface Provider {
  readonly name: string;
  send(message: OutgoingMessage): Promise<{ messageId: string | null }>;
}

/** A provider failure kept on the delivery (never containing the code). */
export class ProviderError extends Error {}

/** Development only: writes the message, code included, to the server log. */
export class LogProvider implements Provider {
  readonly name = 'log';
  constructor(private readonly log: Logger) {}

  async send(message: OutgoingMessage): Promise<{ messageId: string | null }> {
    this.log.info({ otpMessage: { channel: message.channel, to: message.to, subject: message.subject, text: message.text } }, 'OTP message (log provider)');
    return { messageId: null };
  }
}

export class SmtpProvider implements Provider {
  readonly name = 'smtp';
  private readonly transport: ReturnType<typeof createTransport>;

  constructor(url: string, private readonly from: string, timeoutMs: number) {
    this.transport = createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  }

  async send(message: OutgoingMessage): Promise<{ messageId: string | null }> {
    const info = await this.transport.sendMail({
      from: message.fromName ? { name: message.fromName, address: this.from } : this.from,
      to: message.to,
      subject: message.subject ?? '',
      text: message.text,
      ...(message.html ? { html: message.html } : {}),
    });
    return { messageId: info.messageId ?? null };
  }

  close(): void {
    this.transport.close();
  }
}

/** Twilio Messages REST API: `POST /2010-04-01/Accounts/{sid}/Messages.json`, basic auth, form body. */
export class TwilioProvider implements Provider {
  readonly name = 'twilio';

  constructor(private readonly config: TwilioConfig) {}

  async send(message: OutgoingMessage): Promise<{ messageId: string | null }> {
    const { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: token, TWILIO_FROM: from, TWILIO_BASE_URL: base, PUBLIC_URL } = this.config;
    const form = new URLSearchParams({ To: message.to, From: from!, Body: message.text });
    if (PUBLIC_URL) form.set('StatusCallback', new URL('/webhooks/twilio', PUBLIC_URL).toString());
    const response = await fetch(`${base.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(sid!)}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: AbortSignal.timeout(this.config.OTP_PROVIDER_TIMEOUT_MS),
    });
    const body = await readJson(response);
    if (!response.ok) throw new ProviderError(`Twilio answered ${response.status}: ${String(body?.message ?? response.statusText)}`);
    return { messageId: typeof body?.sid === 'string' ? body.sid : null };
  }
}

/** WhatsApp Cloud API: a template message whose first body parameter (and copy-code button) is the code. */
export class MetaWhatsAppProvider implements Provider {
  readonly name = 'meta';

  constructor(private readonly config: MetaWhatsAppConfig) {}

  async send(message: OutgoingMessage): Promise<{ messageId: string | null }> {
    const { WHATSAPP_BASE_URL: base, WHATSAPP_PHONE_NUMBER_ID: phoneId, WHATSAPP_TOKEN: token } = this.config;
    const response = await fetch(`${base.replace(/\/$/, '')}/${encodeURIComponent(phoneId!)}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: message.to.replace(/^\+/, ''),
        type: 'template',
        template: {
          name: message.templateId,
          language: { code: this.config.WHATSAPP_TEMPLATE_LANGUAGE },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: message.code }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: message.code }] },
          ],
        },
      }),
      signal: AbortSignal.timeout(this.config.OTP_PROVIDER_TIMEOUT_MS),
    });
    const body = await readJson(response);
    if (!response.ok) throw new ProviderError(`WhatsApp Cloud answered ${response.status}: ${String(body?.error?.message ?? response.statusText)}`);
    const id = body?.messages?.[0]?.id;
    return { messageId: typeof id === 'string' ? id : null };
  }
}

async function readJson(response: Response): Promise<any> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export interface ProviderSet {
  byChannel: Record<OtpChannel, Provider>;
  close(): void;
}

/** Picks each channel's provider from the configuration; warns once when codes will appear in the log. */
export function createProviders(config: ProviderConfig, log: Logger): ProviderSet {
  const logProvider = new LogProvider(log.child({ component: 'otp-log-provider' }));
  const smtp = config.EMAIL_PROVIDER === 'smtp' ? new SmtpProvider(config.SMTP_URL!, config.SMTP_FROM, config.OTP_PROVIDER_TIMEOUT_MS) : null;
  const byChannel: Record<OtpChannel, Provider> = {
    EMAIL: smtp ?? logProvider,
    SMS: config.SMS_PROVIDER === 'twilio' ? new TwilioProvider(config) : logProvider,
    WHATSAPP: config.WHATSAPP_PROVIDER === 'meta' ? new MetaWhatsAppProvider(config) : logProvider,
  };
  const logged = (Object.keys(byChannel) as OtpChannel[]).filter((c) => byChannel[c] === logProvider);
  if (logged.length) log.warn({ channels: logged }, 'OTP messages on these channels go to the log, codes included (the `log` provider): for development only');
  return { byChannel, close: () => smtp?.close() };
}
