import { BadUserInput, RequestRefused } from '../core/errors';

/** The key is empty, longer than 255 characters, or holds a character outside printable ASCII. */
export class InvalidIdempotencyKey extends BadUserInput {
  constructor() {
    super('The idempotency key must be 1-255 printable ASCII characters (space to ~).', 'idempotencyKey');
  }
}

/** The same caller used the key before with a different operation or input (REST: 422). */
export class IdempotencyKeyReused extends RequestRefused {
  constructor() {
    super('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different request. Use a new key for a new request.',
      { argumentName: 'idempotencyKey' });
  }
}

/** The first request with this key is still running (REST: 409 with Retry-After); retry after `retryAfterSeconds`. */
export class IdempotencyKeyInUse extends RequestRefused {
  constructor(readonly retryAfterSeconds: number) {
    super('IDEMPOTENCY_KEY_IN_USE', 'A request with this idempotency key is still being processed. Retry shortly to get its answer.',
      { argumentName: 'idempotencyKey', retryAfterSeconds });
  }
}
