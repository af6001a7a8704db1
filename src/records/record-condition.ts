/**
 * Conditions on records that another feature answers with SQL, registered at start (the connections feature answers
 * `connected`), so records lists can filter by them without records importing that feature — like the save guards.
 */

/** `records(where: { connected: … })`: records linked by a connection; every given part must hold. */
export interface ConnectedCondition {
  /** Only connections of this type. */
  typeId: string | null;
  /** The side the listed record is on: SOURCE (reads the type's name) or TARGET (its inverse name); symmetric types match either. */
  side: 'SOURCE' | 'TARGET' | null;
  /** The other record of the connection (any live record when null). */
  to: string | null;
  /** Only connections in force that day (YYYY-MM-DD). */
  activeOn: string | null;
}

export interface RecordConditionProvider {
  /**
   * A boolean SQL condition on the record whose id is `recordIdSql`; values go through `param`, which returns the
   * placeholder. Only the provider's own tables and the fragments of record.sql.ts may appear in it.
   */
  connectedSql(condition: ConnectedCondition, recordIdSql: string, param: (value: unknown) => string): string;
}
