import { ErrorCode, RetryLaterException } from '../core/errors';

/** FRAUD_SUSPECTED with the seconds until the block ends; REST answers 429 with Retry-After, like RATE_LIMITED. */
export class FraudSuspectedException extends RetryLaterException {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds, ErrorCode.FRAUD_SUSPECTED, message);
  }
}
