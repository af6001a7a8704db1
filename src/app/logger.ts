import pino, { type Logger } from 'pino';

/** JSON logs. Credentials are redacted wherever they could appear; OTP codes are never passed to the logger. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'countersign' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization', 'apiKey', 'key', 'code', 'password'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
