import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type IdempotencyKeyState = 'RUNNING' | 'DONE';

/**
 * One idempotency key of one caller: RUNNING while the first request with it works (held by `lockToken` until
 * `lockedUntil`), DONE with the stored `answer` afterwards, until `expiresAt` (24 h after the first request).
 */
@Entity({ name: 'idempotency_keys' })
@Index('IDX_idempotency_keys_expires', ['expiresAt'])
export class IdempotencyKeyEntity {
  /** Whose key: `apikey:<id>` or `user:<id>`; one caller never reads another's answers. */
  @PrimaryColumn({ type: 'varchar', length: 80 })
  scope: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key: string;

  /** SHA-256 (hex) of the operation's name and its canonicalised input. */
  @Column({ type: 'varchar', length: 64, name: 'payload_hash' })
  payloadHash: string;

  @Column({ type: 'varchar', length: 16 })
  state: IdempotencyKeyState;

  @Column({ type: 'uuid', name: 'lock_token', nullable: true })
  lockToken: string | null;

  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true })
  lockedUntil: Date | null;

  /** What a retry gets back, as JSON text (kept as written, so a REST retry gets the same bytes): ids and plain values, never a code or a secret. */
  @Column({ type: 'text', nullable: true })
  answer: string | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt: Date;
}
