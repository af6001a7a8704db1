/**
 * SQL tests of "does this connection still fit its type?", shared by the type-change policies and the integrity
 * report so both always agree. Aliases: `c` connections, `t` its type, `s` / `g` the source / target records.
 */

import { recordJoinSql } from '../records/record.sql';

/** Today in UTC: the one clock that statuses, END and filters use. */
export const TODAY_SQL = `(now() AT TIME ZONE 'UTC')::date`;

export const MODULE_MISFIT_SQL = `NOT (
  (s.module = ANY(t.source_modules) AND g.module = ANY(t.target_modules))
  OR (t.symmetric AND s.module = ANY(t.target_modules) AND g.module = ANY(t.source_modules)))`;

export const SELF_LINK_SQL = `(c.source_id = c.target_id AND NOT t.allow_self)`;

/** A required property missing, a value of the wrong type or outside the options, or a key the type does not define. */
export const PROPERTY_MISFIT_SQL = `(
  EXISTS (
    SELECT 1 FROM jsonb_array_elements(t.properties) d
     WHERE CASE
       WHEN NOT (c.properties ? (d->>'key')) THEN (d->>'required')::boolean
       ELSE NOT CASE d->>'type'
         WHEN 'TEXT' THEN jsonb_typeof(c.properties->(d->>'key')) = 'string'
         WHEN 'NUMBER' THEN jsonb_typeof(c.properties->(d->>'key')) = 'number'
         WHEN 'BOOLEAN' THEN jsonb_typeof(c.properties->(d->>'key')) = 'boolean'
         WHEN 'DATE' THEN jsonb_typeof(c.properties->(d->>'key')) = 'string'
                      AND (c.properties->>(d->>'key')) ~ '^\\d{4}-\\d{2}-\\d{2}$'
         WHEN 'PICKLIST' THEN jsonb_typeof(c.properties->(d->>'key')) = 'string'
                          AND (d->'options') ? (c.properties->>(d->>'key'))
         ELSE false
       END
     END)
  OR EXISTS (
    SELECT 1 FROM jsonb_object_keys(c.properties) k
     WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(t.properties) d WHERE d->>'key' = k)))`;

export type MisfitKind = 'MODULE_MISMATCH' | 'INVALID_PROPERTIES' | 'SELF_LINK';

/**
 * The connections of one type that no longer fit it, each with the ways it misfits.
 * Parameter `$1` is the type id; run it after the type row has been changed (inside the same transaction).
 */
export const MISFITS_OF_TYPE_SQL = `
  SELECT c.id, array_remove(ARRAY[
           CASE WHEN ${MODULE_MISFIT_SQL} THEN 'MODULE_MISMATCH' END,
           CASE WHEN ${PROPERTY_MISFIT_SQL} THEN 'INVALID_PROPERTIES' END,
           CASE WHEN ${SELF_LINK_SQL} THEN 'SELF_LINK' END], NULL) AS kinds
    FROM connections c
    JOIN connection_types t ON t.id = c.type_id
    ${recordJoinSql('s', 'c.source_id')}
    ${recordJoinSql('g', 'c.target_id')}
   WHERE c.type_id = $1 AND (${MODULE_MISFIT_SQL} OR ${PROPERTY_MISFIT_SQL} OR ${SELF_LINK_SQL})
   ORDER BY c.created_at, c.id`;

/** Sets the end date to yesterday (so the connection reads INACTIVE now), never before its start or after an earlier end. */
export const END_CONNECTION_SET_SQL = `end_date = CASE
    WHEN end_date IS NOT NULL AND end_date < ${TODAY_SQL} THEN end_date
    ELSE GREATEST(COALESCE(start_date, '-infinity'::date), ${TODAY_SQL} - 1) END`;
