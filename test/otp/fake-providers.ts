import http from 'node:http';
import { closeServer, listenOnLoopback } from '../support/local-server';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type FakeMode = 'ok' | 'fail' | 'reject' | 'hang';

/** A local HTTP server playing a provider API: records every request and answers per `mode`. */
export class FakeHttpProvider {
  readonly received: ReceivedRequest[] = [];
  mode: FakeMode = 'ok';
  private readonly server: http.Server;
  private counter = 0;

  constructor(private readonly answer: (n: number) => unknown) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        this.received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (this.mode === 'hang') return; // never answers
        this.counter += 1;
        if (this.mode === 'reject') { // a 4xx whose text names the provider's own internals
          const message = 'Recipient not allowed by policy gw-7 (upstream 10.20.30.40:8443)';
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message, error: { message } }));
          return;
        }
        if (this.mode === 'fail') {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Internal failure at the provider' }));
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(this.answer(this.counter)));
      });
    });
  }

  start(): Promise<string> {
    return listenOnLoopback(this.server);
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server (smtp-server) that keeps every message it accepts. */
export class FakeSmtpServer {
  readonly received: ReceivedMail[] = [];
  readonly logins: Array<{ username: string; password: string }> = [];
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true, // local test server without TLS
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        this.logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
        if (auth.username === 'mailer' && auth.password === 'mail-secret') callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData: (stream, session, callback) => {
        let raw = '';
        stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
        stream.on('end', () => {
          this.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
          });
          callback();
        });
      },
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://mailer:mail-secret@127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A Twilio stand-in that answers each message after a delay and counts messages per recipient. */
export class SlowCountingTwilio {
  constructor(private readonly answerAfterMs: number) {}

  readonly received = new Map<string, number>();
  pending = 0;
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const to = new URLSearchParams(body).get('To') ?? '?';
      this.received.set(to, (this.received.get(to) ?? 0) + 1); // once the provider has the message, it is sent
      this.pending += 1;
      setTimeout(() => {
        this.pending -= 1;
        if (!res.destroyed) res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SM${randomBytes(16).toString('hex')}` }));
      }, this.answerAfterMs);
    });
  });
  get total() { return [...this.received.values()].reduce((a, b) => a + b, 0); }
  start() { return listenOnLoopback(this.server); }
  stop() { return closeServer(this.server); }
}
