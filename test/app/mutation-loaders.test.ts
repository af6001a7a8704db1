import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, contact } from '../connections/helpers';

/**
 * The fields of a mutation run one after another; each reads through the request's loaders (batched, cached per
 * request). A later field must not be answered from what an earlier field's selection loaded before this field
 * changed it: each top-level mutation field starts with fresh loaders.
 */
let t: TestServer;
beforeAll(async () => { t = await startTestServer('mutation_loaders'); });
afterAll(() => t.close());

describe('several mutations in one operation, each reading what the ones before it changed', () => {
  test('a second createConnection on the same record counts the first one\'s connection and its own', async () => {
    const a = await contact(t, 'Hub');
    const b = await contact(t, 'Spoke One');
    const c = await contact(t, 'Spoke Two');
    const read = 'connection { source { connections(first: 10) { totalCount nodes { otherRecord { id } } } } }';
    const res = await t.gql(`mutation($a: ID!, $b: ID!, $c: ID!, $type: ID!) {
      one: createConnection(input: { typeId: $type, sourceId: $a, targetId: $b }) { ${read} }
      two: createConnection(input: { typeId: $type, sourceId: $a, targetId: $c }) { ${read} }
    }`, { a: a.id, b: b.id, c: c.id, type: SYSTEM.knows });
    expect(res.body.errors).toBeUndefined();
    const { one, two } = res.body.data;
    expect(one.connection.source.connections.totalCount).toBe(1);
    expect(two.connection.source.connections.totalCount).toBe(2);
    expect(two.connection.source.connections.nodes.map((n: { otherRecord: { id: string } }) => n.otherRecord.id).sort()).toEqual([b.id, c.id].sort());
  });

  test('a record read through the loader, then updated, then read again in one operation answers its new version', async () => {
    const a = await contact(t, 'Reader One');
    const b = await contact(t, 'Updated Between');
    const c = await contact(t, 'Reader Two');
    const res = await t.gql(`mutation($a: ID!, $b: ID!, $c: ID!, $type: ID!) {
      before: createConnection(input: { typeId: $type, sourceId: $a, targetId: $b }) { connection { target { version fields } } }
      update: updateRecord(id: $b, fields: { firstName: "Changed" }) { record { version } }
      after: createConnection(input: { typeId: $type, sourceId: $c, targetId: $b }) { connection { target { version fields } } }
    }`, { a: a.id, b: b.id, c: c.id, type: SYSTEM.knows });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.before.connection.target).toMatchObject({ version: 1, fields: { lastName: 'Updated Between' } });
    expect(res.body.data.update.record.version).toBe(2);
    expect(res.body.data.after.connection.target).toMatchObject({ version: 2, fields: { firstName: 'Changed', lastName: 'Updated Between' } });
  });
});
