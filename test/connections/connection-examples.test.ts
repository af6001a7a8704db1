import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, validate } from 'graphql';
import { buildAppSchema } from '../../src/app/schema';
import { EXAMPLE_OPERATIONS } from '../../src/app/explorer-examples';
import { startTestServer } from '../support/test-server';
import { SYSTEM, createRecord } from './helpers';

const schema = buildAppSchema();

function problems(source: string): string[] {
  return validate(schema, parse(source)).map((e) => e.message);
}

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'connections.md'), 'utf8');
const blocks = [...doc.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('connections examples: successful cases', () => {
  test('docs/connections.md has examples for types, connecting, reading both sides, and integrity', () => {
    const all = blocks.join('\n');
    for (const field of ['createConnectionType', 'createConnection(', 'connections', 'connectionIntegrityReport', 'repairConnections']) {
      expect(all).toContain(field);
    }
  });

  test.each(blocks.map((b, i) => [i, b]))('docs example %i is valid against the schema', (_i, block) => {
    expect(problems(block as string)).toEqual([]);
  });

  test('every explorer example operation is valid against the schema', () => {
    for (const op of EXAMPLE_OPERATIONS) expect([op.title, problems(op.query)]).toEqual([op.title, []]);
  });
});

describe('connections examples: the docs walk-through runs as written', () => {
  test('create a type, connect, read both sides, batch, narrow a type, report and repair', async () => {
    const t = await startTestServer('conn_examples');
    try {
      const run = async (index: number, variables: Record<string, unknown> = {}) => {
        const res = await t.gql(blocks[index], variables);
        expect(res.body.errors).toBeUndefined();
        return res.body.data;
      };
      const type = (await run(0)).createConnectionType;
      expect(type).toMatchObject({ userErrors: [], connectionType: { name: 'supplies', inverseName: 'is supplied by' } });
      const created = await run(1, { contact: { firstName: 'Asha', lastName: 'Rao' }, organization: { name: 'Acme' } });
      const contactId = created.asha.record.id;
      const organizationId = created.acme.record.id;
      const connected = (await run(2, { contactId, organizationId })).createConnection;
      expect(connected).toMatchObject({ userErrors: [], connection: { status: 'ACTIVE', source: { label: 'Asha Rao' }, target: { label: 'Acme' } } });
      const sides = await run(3, { contactId, organizationId });
      expect(sides.contact.connections.nodes).toEqual([{ label: 'is working at', direction: 'OUTGOING', status: 'ACTIVE', otherRecord: { label: 'Acme', module: 'Organizations' } }]);
      expect(sides.organization.connections.nodes).toEqual([expect.objectContaining({ label: 'employs', direction: 'INCOMING', otherRecord: { id: contactId, label: 'Asha Rao' } })]);
      const batch = (await run(4, { inputs: [
        { typeId: SYSTEM.boardMemberOf, sourceId: contactId, targetId: organizationId },
        { typeId: SYSTEM.knows, sourceId: contactId, targetId: organizationId },
      ] })).createConnections;
      expect(batch).toMatchObject({ createdCount: 1, failedCount: 1 });
      const narrowed = (await run(5, { typeId: type.connectionType.id })).updateConnectionType;
      expect(narrowed).toMatchObject({ userErrors: [], affectedConnectionIds: [], connectionType: { targetModules: ['Organizations'] } });
      expect((await run(6)).connectionIntegrityReport.totalCount).toBe(0);
      const repair = (await run(7, { connectionId: connected.connection.id, dryRun: true })).repairConnections;
      expect(repair.results[0].userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);

      // Connections v2: filter by connection, groups, paths and conflict checks, history
      expect((await run(8, { acme: organizationId })).records.nodes).toEqual([{ id: contactId, label: 'Asha Rao' }]);
      const groups = (await run(9, { id: organizationId })).record.connectionGroups;
      expect(groups.map((g: any) => [g.label, g.direction, g.totalCount])).toEqual([['employs', 'INCOMING', 1], ['has board member', 'INCOMING', 1]]);
      const intro = await run(10, { me: contactId, prospect: organizationId, against: [organizationId] });
      expect(intro.connectionPaths.map((p: any) => p.steps.map((s: any) => s.label))).toEqual(expect.arrayContaining([['is working at'], ['board member of']]));
      expect(intro.conflictCheck).toEqual([expect.objectContaining({ recordId: organizationId, linked: true, path: expect.objectContaining({ hops: 1 }) })]);
      const past = await run(11, { id: contactId, connectionId: connected.connection.id });
      expect(past.record.then.totalCount).toBe(0); // created today: not there on 2024-01-31
      expect(past.connection.history.nodes).toEqual([expect.objectContaining({ action: 'CREATED', actor: { email: 'admin@countersign.local' } })]);
    } finally {
      await t.close();
    }
  });

  test('merge duplicates, create a contact with its connection, connect with a context record', async () => {
    const t = await startTestServer('conn_examples_v2');
    try {
      const run = async (name: string, variables: Record<string, unknown> = {}) => {
        const res = await t.gql(blocks.find((b) => b.includes(name))!, variables);
        expect(res.body.errors).toBeUndefined();
        return res.body.data;
      };
      const acme = await createRecord(t, 'Organizations', { name: 'Acme' });
      const created = (await run('mutation NewContactAtAcme', { organizationId: acme.id })).createRecord;
      expect(created).toMatchObject({ userErrors: [], record: { label: 'Ravi Iyer' } });
      const duplicate = (await run('mutation NewContactAtAcme', { organizationId: acme.id })).createRecord.record;
      const merged = (await run('mutation MergeDuplicates', { survivorId: created.record.id, mergedIds: [duplicate.id] })).mergeRecords;
      expect(merged).toMatchObject({ userErrors: [], mergedIds: [duplicate.id], connections: [expect.objectContaining({ outcome: 'FOLDED' })] });

      const type = await t.gql('mutation { createConnectionType(input: { name: "reports to (at)", inverseName: "manages (at)", sourceModules: ["Contacts"], targetModules: ["Contacts"], contextModule: "Organizations" }) { connectionType { id } } }');
      const asha = await createRecord(t, 'Contacts', { firstName: 'Asha', lastName: 'Rao' });
      const connected = (await run('mutation ReportsToAtOrganization', { input: {
        typeId: type.body.data.createConnectionType.connectionType.id, sourceId: asha.id, targetId: created.record.id, contextRecordId: acme.id,
      } })).createConnection;
      expect(connected).toMatchObject({ userErrors: [], connection: { type: { contextModule: 'Organizations' }, contextRecord: { id: acme.id, label: 'Acme' } } });
    } finally {
      await t.close();
    }
  });
});
