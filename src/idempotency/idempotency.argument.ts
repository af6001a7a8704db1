/** The `idempotencyKey` argument of every mutation that takes one. */
export const IDEMPOTENCY_KEY_ARGUMENT = {
  nullable: true,
  description: 'Makes retries safe: a retry with the same key and the same arguments within 24 h returns the first answer '
    + 'and does nothing again. 1-255 printable ASCII characters, e.g. a UUID; keys are yours alone (per API key or user).',
} as const;
