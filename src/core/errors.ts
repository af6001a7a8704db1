import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

/** Every business outcome a mutation can report in `userErrors`. One enum for the whole API. */
export enum ErrorCode {
  INVALID = 'INVALID',
  REQUIRED = 'REQUIRED',
  UNKNOWN_FIELD = 'UNKNOWN_FIELD',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  TAKEN = 'TAKEN',
  IN_USE = 'IN_USE',
  FORBIDDEN = 'FORBIDDEN',
  LIMIT_REACHED = 'LIMIT_REACHED',
  RATE_LIMITED = 'RATE_LIMITED',
  FRAUD_SUSPECTED = 'FRAUD_SUSPECTED',
  NUMBER_NOT_ALLOWED = 'NUMBER_NOT_ALLOWED',
  OTP_INVALID = 'OTP_INVALID',
  OTP_EXPIRED = 'OTP_EXPIRED',
  OTP_LOCKED = 'OTP_LOCKED',
  OTP_REQUIRED = 'OTP_REQUIRED',
  OTP_RULE_BLOCKS_CREATE = 'OTP_RULE_BLOCKS_CREATE',
  DUPLICATE_CONNECTION = 'DUPLICATE_CONNECTION',
}

registerEnumType(ErrorCode, { name: 'ErrorCode', description: 'Machine-readable reason of a UserError.' });

@ObjectType({ description: 'An expected business outcome that stopped a mutation; nothing was written.' })
export class UserError {
  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault, e.g. ["fields", "email"].' })
  field?: string[] | null;

  @Field(() => String)
  message: string;

  @Field(() => ErrorCode)
  code: ErrorCode;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Machine-readable context, e.g. the rule, accepted keys and masked recipients of OTP_REQUIRED.' })
  details?: Record<string, unknown> | null;

  constructor(code: ErrorCode, message: string, field?: string[] | null, details?: Record<string, unknown> | null) {
    this.code = code;
    this.message = message;
    this.field = field ?? null;
    this.details = details ?? null;
  }
}

/**
 * Thrown by services for an expected outcome that must abort a transaction; resolvers turn it into
 * `userErrors` with {@link toUserErrors}. Unexpected faults stay ordinary errors and become top-level `errors`.
 */
export class UserErrorException extends Error {
  constructor(readonly userErrors: UserError[]) {
    super(userErrors.map((e) => e.message).join('; '));
  }

  static of(code: ErrorCode, message: string, field?: string[]): UserErrorException {
    return new UserErrorException([new UserError(code, message, field)]);
  }
}

/** An outcome that clears with time (RATE_LIMITED, FRAUD_SUSPECTED): REST answers 429 with `Retry-After`. */
export class RetryLaterException extends UserErrorException {
  constructor(readonly retryAfterSeconds: number, code: ErrorCode, message: string) {
    super([new UserError(code, `${message} Try again in ${retryAfterSeconds} seconds.`)]);
  }
}

/** Runs a service call and returns its result or its user errors, as every mutation payload needs. */
export async function toPayload<T, K extends string>(
  key: K,
  work: () => Promise<T>,
): Promise<{ [P in K]: T | null } & { userErrors: UserError[] }> {
  try {
    const value = await work();
    return { [key]: value, userErrors: [] } as { [P in K]: T | null } & { userErrors: UserError[] };
  } catch (error) {
    if (error instanceof UserErrorException) {
      return { [key]: null, userErrors: error.userErrors } as { [P in K]: T | null } & { userErrors: UserError[] };
    }
    throw error;
  }
}

/** The `extensions.code` of a request refused as a whole; the API edge maps each to its wire form. */
export type RefusalCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'IDEMPOTENCY_KEY_REUSED' | 'IDEMPOTENCY_KEY_IN_USE';

/**
 * A request refused as a whole (bad arguments, no valid credentials, a role that may not), as opposed to a business
 * outcome of a mutation (a {@link UserError}). Services and queries throw it without knowing the API; the edge turns
 * it into a top-level GraphQL error whose `extensions` are the code and the details (`app/errors.ts`), and the REST
 * door into its own answer.
 */
export class RequestRefused extends Error {
  constructor(readonly code: RefusalCode, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** An argument is wrong; `argumentName` says which (`where`, `after`, `module`, …). */
export class BadUserInput extends RequestRefused {
  constructor(message: string, argumentName: string) {
    super('BAD_USER_INPUT', message, { argumentName });
  }
}

/** No credentials, or credentials that name no one (HTTP 401 at the edge). */
export class Unauthenticated extends RequestRefused {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/** The acting user's role may not do this. */
export class Forbidden extends RequestRefused {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}
