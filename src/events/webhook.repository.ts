import { isUuid } from '../core/ids';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { queryRows, type Queryable } from '../db/sql';
import type { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookDeliveryStatus, WebhookEndpointEntity } from './webhook.entities';

/** A delivery claimed for an attempt, with what the attempt needs from its endpoint. */
export interface ClaimedDelivery extends WebhookDeliveryEntity {
  url: string;
  secretSealed: string;
}

export interface AttemptOutcome {
  succeeded: boolean;
  responseCode: number | null;
  durationMs: number;
  error: string | null;
}

const FANOUT_LOCK = "hashtext('countersign:webhook-fanout')";

/** Every SQL statement on event_outbox, webhook_endpoints, webhook_deliveries and webhook_delivery_attempts. */
export class WebhookRepository {
  constructor(private readonly db: Queryable) {}

  // Endpoints

  async insertEndpoint(values: { url: string; description: string | null; eventTypes: string[]; active: boolean; secretSealed: string; createdBy: string | null }): Promise<WebhookEndpointEntity> {
    const [row] = await this.db.query(
      `INSERT INTO webhook_endpoints (url, description, event_types, active, secret_sealed, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [values.url, values.description, values.eventTypes, values.active, values.secretSealed, values.createdBy]);
    return toEndpoint(row);
  }

  async findEndpoint(id: string): Promise<WebhookEndpointEntity | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
    return row ? toEndpoint(row) : null;
  }

  /** Applies the given changes; turning an endpoint on clears why it was off and its failure streak. */
  async updateEndpoint(id: string, changes: { url?: string; description?: string | null; eventTypes?: string[]; active?: boolean; secretSealed?: string }): Promise<WebhookEndpointEntity | null> {
    const [row] = await queryRows(this.db,
      `UPDATE webhook_endpoints SET
          url = COALESCE($2, url), description = CASE WHEN $3::boolean THEN $4 ELSE description END,
          event_types = COALESCE($5, event_types), secret_sealed = COALESCE($7, secret_sealed),
          active = COALESCE($6, active),
          disabled_reason = CASE WHEN $6 IS TRUE THEN NULL ELSE disabled_reason END,
          disabled_at = CASE WHEN $6 IS TRUE THEN NULL ELSE disabled_at END,
          failing_since = CASE WHEN $6 IS TRUE THEN NULL ELSE failing_since END,
          updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, changes.url ?? null, changes.description !== undefined, changes.description ?? null, changes.eventTypes ?? null, changes.active ?? null, changes.secretSealed ?? null]);
    return row ? toEndpoint(row) : null;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const rows = await queryRows(this.db, 'DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async endpointPage(first: number, after?: string | null): Promise<PageSource<WebhookEndpointEntity>> {
    const params: unknown[] = [first + 1];
    let where = 'TRUE';
    if (after) {
      const [createdAt, id] = decodeCursor(after, ['timestamp', 'uuid']);
      params.push(createdAt, id);
      where = '(created_at, id) > ($2::timestamptz, $3::uuid)';
    }
    const rows = (await this.db.query(`SELECT * FROM webhook_endpoints WHERE ${where} ORDER BY created_at, id LIMIT $1`, params)).map(toEndpoint);
    return {
      rows, first,
      cursorOf: (e) => encodeCursor([e.createdAt.toISOString(), e.id]),
      count: async () => (await this.db.query('SELECT count(*)::int AS n FROM webhook_endpoints'))[0].n,
    };
  }

  // Deliveries

  async findDelivery(id: string): Promise<WebhookDeliveryEntity | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query('SELECT * FROM webhook_deliveries WHERE id = $1', [id]);
    return row ? toDelivery(row) : null;
  }

  async deliveryPage(endpointId: string, status: WebhookDeliveryStatus | null, first: number, after?: string | null): Promise<PageSource<WebhookDeliveryEntity>> {
    const params: unknown[] = [endpointId, status, first + 1];
    let where = '';
    if (after) {
      const [seq] = decodeCursor(after, [(v) => typeof v === 'string' && /^\d{1,19}$/.test(v)]);
      params.push(seq);
      where = 'AND seq < $4::bigint';
    }
    const rows = (await this.db.query(
      `SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND ($2::varchar IS NULL OR status = $2) ${where} ORDER BY seq DESC LIMIT $3`, params)).map(toDelivery);
    return {
      rows, first,
      cursorOf: (d) => encodeCursor([d.seq]),
      count: async () => (await this.db.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND ($2::varchar IS NULL OR status = $2)', [endpointId, status]))[0].n,
    };
  }

  async attemptsOf(deliveryIds: readonly string[]): Promise<WebhookDeliveryAttemptEntity[]> {
    return (await this.db.query(
      'SELECT * FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt', [deliveryIds.filter(isUuid)])).map(toAttempt);
  }

  /** A new delivery of the same message (same `webhook-id`), due now, queued behind the subject's pending ones. */
  async replay(delivery: WebhookDeliveryEntity, now: Date): Promise<WebhookDeliveryEntity> {
    const [row] = await this.db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, subject, body, next_attempt_at, created_at, replay_of)
       SELECT endpoint_id, event_id, event_type, subject, body, $2, $2, id FROM webhook_deliveries WHERE id = $1 RETURNING *`,
      [delivery.id, now]);
    return toDelivery(row);
  }

  // Dispatch

  /**
   * Turns committed outbox events into one delivery per matching active endpoint that existed when the event
   * happened, in event order. One instance at a time (an advisory lock), so two instances never interleave the
   * deliveries of one subject.
   */
  async fanOut(now: Date, limit: number): Promise<number> {
    const [row] = await this.db.query(
      `WITH locked AS (SELECT pg_try_advisory_xact_lock(${FANOUT_LOCK}) AS ok),
       batch AS (
         SELECT o.* FROM event_outbox o, locked WHERE locked.ok AND o.fanned_out_at IS NULL ORDER BY o.id LIMIT $2 FOR UPDATE OF o),
       marked AS (UPDATE event_outbox o SET fanned_out_at = $1 FROM batch WHERE o.id = batch.id RETURNING o.id),
       inserted AS (
         INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, subject, body, next_attempt_at, created_at)
         SELECT e.id, b.event_id, b.type, b.subject,
                json_build_object('type', b.type, 'timestamp', to_char(b.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', b.data)::text,
                $1, $1
           FROM batch b JOIN webhook_endpoints e
             ON e.active AND e.created_at <= b.occurred_at AND (cardinality(e.event_types) = 0 OR b.type = ANY(e.event_types))
          ORDER BY b.id, e.id
         RETURNING id)
       SELECT (SELECT count(*)::int FROM marked) AS events`,
      [now, limit]);
    return row?.events ?? 0;
  }

  /**
   * Claims due deliveries for one attempt each: the oldest pending one of each (endpoint, subject) only, so a
   * subject's events arrive in order. The claim is a lease (`next_attempt_at` moved past the attempt's timeout): a
   * process that dies mid-attempt leaves it to be retried.
   */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const rows = await queryRows(this.db,
      `UPDATE webhook_deliveries d SET next_attempt_at = $2
         FROM webhook_endpoints e
        WHERE e.id = d.endpoint_id AND d.id IN (
          SELECT c.id FROM webhook_deliveries c JOIN webhook_endpoints ce ON ce.id = c.endpoint_id AND ce.active
           WHERE c.status = 'PENDING' AND c.next_attempt_at <= $1
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                              WHERE p.endpoint_id = c.endpoint_id AND p.subject = c.subject AND p.status = 'PENDING' AND p.seq < c.seq)
           ORDER BY c.seq LIMIT $3 FOR UPDATE OF c SKIP LOCKED)
       RETURNING d.*, e.url AS endpoint_url, e.secret_sealed AS endpoint_secret_sealed`,
      [now, leaseUntil, limit]);
    return rows.map((row) => ({ ...toDelivery(row), url: row.endpoint_url, secretSealed: row.endpoint_secret_sealed }));
  }

  /**
   * Records one attempt: the log row, the delivery's new state (done, failed for good, or due again at `retryAt`)
   * and the endpoint's failure streak, which turns it off once it reaches `disableAfterMs`.
   */
  async recordAttempt(delivery: ClaimedDelivery, outcome: AttemptOutcome, now: Date, retryAt: Date | null, disableAfterMs: number): Promise<void> {
    const status: WebhookDeliveryStatus = outcome.succeeded ? 'SUCCEEDED' : retryAt ? 'PENDING' : 'FAILED';
    await this.db.query(
      `WITH attempt AS (
         INSERT INTO webhook_delivery_attempts (delivery_id, attempt, succeeded, response_code, duration_ms, error, attempted_at)
         VALUES ($1::uuid, $2::int, $3::boolean, $4::int, $5::int, $6::text, $7::timestamptz)),
       delivery AS (
         UPDATE webhook_deliveries SET status = $8::varchar, attempts = $2::int, last_response_code = $4::int, last_duration_ms = $5::int,
                last_error = $6::text, next_attempt_at = $9::timestamptz,
                completed_at = CASE WHEN $8::varchar = 'PENDING' THEN NULL ELSE $7::timestamptz END
          WHERE id = $1::uuid AND status = 'PENDING'),
       streak AS (
         SELECT NOT $3::boolean AND active AND $7::timestamptz - COALESCE(failing_since, $7::timestamptz) >= make_interval(secs => $10::double precision / 1000) AS ends
           FROM webhook_endpoints WHERE id = $12::uuid)
       UPDATE webhook_endpoints e SET
          failing_since = CASE WHEN $3::boolean THEN NULL ELSE COALESCE(e.failing_since, $7::timestamptz) END,
          active = CASE WHEN streak.ends THEN FALSE ELSE e.active END,
          disabled_at = CASE WHEN streak.ends THEN $7::timestamptz ELSE e.disabled_at END,
          disabled_reason = CASE WHEN streak.ends
            THEN 'Disabled automatically: every delivery attempt failed for ' || ($10::bigint / 3600000) || ' hours (since '
                 || to_char(e.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '); last attempt: ' || $11::text
            ELSE e.disabled_reason END
         FROM streak
        WHERE e.id = $12::uuid`,
      [delivery.id, delivery.attempts + 1, outcome.succeeded, outcome.responseCode, outcome.durationMs, outcome.error, now, status, retryAt,
        disableAfterMs, outcome.error ?? `HTTP ${outcome.responseCode}`, delivery.endpointId]);
  }

  /** Forgets outbox events fanned out before `before` (their deliveries keep their own copy). */
  async pruneOutbox(before: Date): Promise<void> {
    await this.db.query('DELETE FROM event_outbox WHERE fanned_out_at < $1', [before]);
  }
}

function toEndpoint(row: Record<string, any>): WebhookEndpointEntity {
  return {
    id: row.id, url: row.url, description: row.description, eventTypes: row.event_types ?? [], active: row.active, secretSealed: row.secret_sealed,
    failingSince: row.failing_since, disabledReason: row.disabled_reason, disabledAt: row.disabled_at, createdBy: row.created_by,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function toDelivery(row: Record<string, any>): WebhookDeliveryEntity {
  return {
    id: row.id, seq: String(row.seq), endpointId: row.endpoint_id, eventId: row.event_id, eventType: row.event_type, subject: row.subject, body: row.body,
    status: row.status, attempts: row.attempts, nextAttemptAt: row.next_attempt_at, lastResponseCode: row.last_response_code,
    lastDurationMs: row.last_duration_ms, lastError: row.last_error, replayOf: row.replay_of, createdAt: row.created_at, completedAt: row.completed_at,
  };
}

function toAttempt(row: Record<string, any>): WebhookDeliveryAttemptEntity {
  return {
    id: String(row.id), deliveryId: row.delivery_id, attempt: row.attempt, succeeded: row.succeeded, responseCode: row.response_code,
    durationMs: row.duration_ms, error: row.error, attemptedAt: row.attempted_at,
  };
}
