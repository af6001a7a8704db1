import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Request } from 'express';

/** Where Apollo is mounted: a middleware, not a route, so it has no `req.route`. */
const GRAPHQL_MOUNT = '/graphql';

/** One registry per server instance, so several instances in one process (tests) never share counters. */
export class Metrics {
  readonly registry = new Registry();

  readonly graphqlDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'Time to answer a GraphQL operation, by its first root field (bounded by the schema, unlike client-chosen names), type and outcome.',
    labelNames: ['field', 'type', 'outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern (`unmatched` for any path no route knows) and status code.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly otpSent = new Counter({
    name: 'otp_sent_total',
    help: 'OTP messages queued for delivery (sends and resends), by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  readonly otpVerify = new Counter({
    name: 'otp_verify_total',
    help: 'OTP verifications, by result (VERIFIED, OTP_INVALID, OTP_EXPIRED, OTP_LOCKED, RATE_LIMITED).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly otpDeliveryDuration = new Histogram({
    name: 'otp_delivery_duration_seconds',
    help: 'Time a provider took to accept an OTP message, by channel, provider and outcome (sent, retry, failed).',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly otpBlocked = new Counter({
    name: 'otp_blocked_total',
    help: 'OTP sends refused by the fraud guard, by reason (NUMBER_TYPE, GEO_BLOCKED, PREFIX_BLOCKED, FAIL_CLOSED).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Read at each scrape from `conversionSource` (the fraud guard registers it): shared figures, from Postgres. */
  conversionSource: (() => Promise<Array<{ country: string; ratio: number }>>) | null = null;

  readonly otpConversion = new Gauge({
    name: 'otp_conversion_ratio',
    help: 'Verified OTPs divided by OTPs sent, per country, over the fraud guard\'s prefix window (FRAUD_PREFIX_WINDOW_SECONDS), all instances.',
    labelNames: ['country'] as const,
    registers: [this.registry],
    collect: async () => {
      if (!this.conversionSource) return;
      const figures = await this.conversionSource().catch(() => null);
      if (!figures) return;
      this.otpConversion.reset();
      for (const { country, ratio } of figures) this.otpConversion.set({ country }, ratio);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Counts one answered HTTP request (call when the response has finished, so routing has picked a route). The
   * server calls it from its one `finish` listener per request, shared with the request log: a middleware of its own
   * with its own listener and timer closure cost about a tenth of the trivial query's throughput.
   */
  observeHttp(req: Request, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ route: routeLabel(req), status: String(statusCode) }, seconds);
  }

  graphqlPlugin(): ApolloServerPlugin {
    const histogram = this.graphqlDuration;
    return {
      async requestDidStart() {
        const end = histogram.startTimer();
        return {
          async willSendResponse({ operation, errors }) {
            const first = operation?.selectionSet.selections[0];
            const field = first?.kind === 'Field' ? first.name.value : 'unknown';
            end({ field, type: operation?.operation ?? 'unknown', outcome: errors?.length ? 'error' : 'ok' });
          },
        };
      },
    };
  }
}

/**
 * The route pattern that answered (`/api/send-otp`, `/explorer/assets/:name`), never the path itself: a label per
 * client-chosen path would let anyone grow /metrics and the process without bound.
 */
export function routeLabel(req: Request): string {
  if (req.baseUrl === GRAPHQL_MOUNT) return GRAPHQL_MOUNT; // before req.route: the explorer's GET route may have passed it on
  const pattern: unknown = req.route?.path;
  return typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
}
