import express, { type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { RequestContext } from '../../core/context';
import { ErrorCode, RetryLaterException, UserErrorException } from '../../core/errors';
import { OtpForbiddenException, OtpValidationException } from '../otp.errors';
import type { OtpService } from '../otp.service';
import { openApiDocument } from './openapi';
import {
  cancelRequestFrom, partnerChannels, partnerErrors, partnerOtpRequest, resendRequestFrom, sendRequestFrom, verifyRequestFrom,
} from './partner-shape';
import type { IdempotencyService } from '../../idempotency/idempotency.service';
import { IdempotencyKeyInUse, IdempotencyKeyReused, InvalidIdempotencyKey } from '../../idempotency/idempotency.errors';
import { keyFromHeader } from '../../idempotency/idempotency-keys';

export interface OtpRestDeps {
  otpService: OtpService;
  /** send-otp honours the Idempotency-Key header. */
  idempotency: IdempotencyService;
  /** Authenticates like GraphQL does; throws the same UNAUTHENTICATED error. */
  contextFor(req: Request): Promise<RequestContext>;
  bodyLimit: string;
  log: Logger;
}

type Answer = [status: number, body: Record<string, unknown>];
type Work = (ctx: RequestContext, body: Record<string, unknown>, req: Request) => Promise<Answer>;

const NOT_FOUND: Answer = [404, { status: false, message: 'No OTP request has this id.', data: { reason: ErrorCode.NOT_FOUND } }];

/**
 * The partner REST twin of the OTP mutations and the otpRequest query: same auth, same validator, same service. Only
 * this door knows the partner's JSON shapes: snake_case bodies become the neutral request here, and its errors become
 * the partner's here. GET /api/openapi.json describes every endpoint (rest/openapi.ts).
 */
export function otpRestRouter(deps: OtpRestDeps): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: deps.bodyLimit }));

  // public, like the GraphQL schema's shape: it holds no data, and generated clients fetch it before they have a key
  router.get('/openapi.json', (_req, res) => { res.json(openApiDocument()); });

  router.post('/send-otp', endpoint(deps, (ctx, body, req) => deps.idempotency.answer(ctx,
    { operation: 'POST /api/send-otp', key: keyFromHeader(req.get('idempotency-key')), input: body }, async (): Promise<Answer> => {
      const request = await deps.otpService.send(ctx, sendRequestFrom(body));
      return [200, {
        status: true,
        message: 'OTP sent successfully',
        data: { otp_request_id: request.id, expires_at: request.expiresAt.toISOString(), channels: request.channels.map((c) => c.toLowerCase()) },
      }];
    })));

  router.post('/verify-otp', endpoint(deps, async (ctx, body) => {
    const result = await deps.otpService.verify(ctx, verifyRequestFrom(body));
    if (result.verified) return [200, { status: true, message: 'OTP verified', data: { otp_request_id: result.otpRequest!.id } }];
    return [400, { status: false, message: 'OTP verification failed', data: { reason: result.reason, attempts_left: result.attemptsLeft } }];
  }));

  router.post('/resend-otp', endpoint(deps, async (ctx, body) => {
    const request = await deps.otpService.resendRequested(ctx, resendRequestFrom(body));
    return [200, {
      status: true,
      message: 'OTP resent successfully',
      data: { otp_request_id: request.id, expires_at: request.expiresAt.toISOString(), channels: partnerChannels(request), send_count: request.sendCount },
    }];
  }));

  router.post('/cancel-otp', endpoint(deps, async (ctx, body) => {
    const request = await deps.otpService.cancelRequested(ctx, cancelRequestFrom(body));
    return [200, { status: true, message: 'OTP canceled', data: { otp_request_id: request.id, status: request.status } }];
  }));

  router.get('/otp/:id', endpoint(deps, async (ctx, _body, req) => {
    const request = await deps.otpService.get(ctx, String(req.params.id));
    if (!request) return NOT_FOUND; // another user's id answers exactly like an unknown one
    return [200, { status: true, message: 'OTP request found', data: partnerOtpRequest(request, await deps.otpService.deliveries(ctx, request)) }];
  }, { body: false }));

  router.use((_req: Request, res: Response) => {
    res.status(404).json({ status: false, message: 'Not found. The REST API is described at GET /api/openapi.json.' });
  });
  router.use(((error, req, res, _next) => {
    const known: Record<string, string> = {
      'entity.too.large': `The request body is larger than ${deps.bodyLimit}.`,
      'entity.parse.failed': 'The request body is not valid JSON.',
    };
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status >= 500) (req.log ?? deps.log).error({ err: error }, 'unhandled REST error');
    res.status(status).json({ status: false, message: known[error?.type] ?? (status < 500 ? 'The request could not be read.' : 'Internal server error.') });
  }) as express.ErrorRequestHandler);
  return router;
}

function endpoint(deps: OtpRestDeps, work: Work, options = { body: true }): express.RequestHandler {
  return async (req, res) => {
    const [status, body, retryAfter] = await answer(deps, req, work, options.body);
    if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
    res.status(status).json(body);
  };
}

async function answer(deps: OtpRestDeps, req: Request, work: Work, takesBody: boolean): Promise<[number, Record<string, unknown>, number?]> {
  let ctx: RequestContext;
  try {
    ctx = await deps.contextFor(req);
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') return [401, { status: false, message: error.message }];
    throw error;
  }
  if (takesBody && (!req.body || typeof req.body !== 'object' || Array.isArray(req.body))) {
    return [400, { status: false, message: 'The request body must be a JSON object (Content-Type: application/json).' }];
  }
  try {
    return await work(ctx, (req.body ?? {}) as Record<string, unknown>, req);
  } catch (error) {
    if (error instanceof OtpForbiddenException) return [403, { status: false, message: error.message }];
    if (error instanceof OtpValidationException) return [422, { status: false, message: 'Invalid Payload', errors: partnerErrors(error.fieldErrors) }];
    if (error instanceof RetryLaterException) { // RATE_LIMITED, FRAUD_SUSPECTED
      return [429, { status: false, message: error.message, data: { reason: error.userErrors[0].code, retry_after: error.retryAfterSeconds } }, error.retryAfterSeconds];
    }
    if (error instanceof InvalidIdempotencyKey) return [400, { status: false, message: 'The Idempotency-Key header must be 1-255 printable ASCII characters.' }];
    if (error instanceof IdempotencyKeyReused) return [422, { status: false, message: error.message, data: { reason: error.code } }];
    if (error instanceof IdempotencyKeyInUse) {
      return [409, { status: false, message: error.message, data: { reason: error.code, retry_after: error.retryAfterSeconds } }, error.retryAfterSeconds];
    }
    if (error instanceof UserErrorException) return userErrorAnswer(error);
    ctx.log.error({ err: error }, 'unexpected error in the OTP REST API');
    return [500, { status: false, message: 'Internal server error.' }];
  }
}

/**
 * A business outcome: an id the caller cannot see is 404 (never 403, so ids do not leak); a choice the request itself
 * got wrong (resending on a channel the OTP was not sent on) is 422 under its partner key; anything else is 400 with
 * its reason (OTP_EXPIRED, OTP_LOCKED, LIMIT_REACHED, INVALID for an OTP no longer pending).
 */
function userErrorAnswer(error: UserErrorException): Answer {
  const [first] = error.userErrors;
  if (first?.code === ErrorCode.NOT_FOUND) return NOT_FOUND;
  if (first?.code === ErrorCode.INVALID && first.field?.[0] === 'channels') {
    return [422, { status: false, message: 'Invalid Payload', errors: partnerErrors([{ field: first.field, message: first.message, code: first.code }]) }];
  }
  return [400, { status: false, message: error.message, data: { reason: first?.code } }];
}
