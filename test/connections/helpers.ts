import { createRecord } from '../support/api';
import type { TestServer } from '../support/test-server';

/** Ids of the system types seeded by the migration. */
export const SYSTEM = {
  parentOf: '00000000-0000-4000-8100-000000000001',
  spouse: '00000000-0000-4000-8100-000000000002',
  reportsTo: '00000000-0000-4000-8100-000000000003',
  knows: '00000000-0000-4000-8100-000000000004',
  previouslyWorkedAt: '00000000-0000-4000-8100-000000000005',
  worksAt: '00000000-0000-4000-8100-000000000006',
  boardMemberOf: '00000000-0000-4000-8100-000000000007',
  consultantAt: '00000000-0000-4000-8100-000000000008',
};

export const USER_ERRORS = 'userErrors { field message code }';
export const CONNECTION_FIELDS = `id status startDate endDate properties notes type { id name } source { id label } target { id label } createdBy { email }`;

export const CREATE_CONNECTION = `mutation($input: CreateConnectionInput!) {
  createConnection(input: $input) { connection { ${CONNECTION_FIELDS} } ${USER_ERRORS} }
}`;

export const CREATE_TYPE = `mutation($input: CreateConnectionTypeInput!) {
  createConnectionType(input: $input) {
    connectionType { id name inverseName symmetric sourceModules targetModules allowSelf active isSystem properties { key label type required options } }
    affectedConnectionIds ${USER_ERRORS}
  }
}`;

export const UPDATE_TYPE = `mutation($id: ID!, $input: UpdateConnectionTypeInput!, $policy: ConnectionPolicy) {
  updateConnectionType(id: $id, input: $input, policy: $policy) {
    connectionType { id name inverseName sourceModules targetModules allowSelf active properties { key type required options } }
    affectedConnectionIds ${USER_ERRORS}
  }
}`;

export function dateFromToday(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export { createRecord };

export const contact = (t: TestServer, lastName: string, firstName?: string) => createRecord(t, 'Contacts', { lastName, ...(firstName ? { firstName } : {}) });
export const organization = (t: TestServer, name: string) => createRecord(t, 'Organizations', { name });

export async function connect(t: TestServer, input: Record<string, unknown>, key?: string): Promise<any> {
  const res = await t.gql(CREATE_CONNECTION, { input }, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.createConnection;
}

export async function createType(t: TestServer, input: Record<string, unknown>): Promise<any> {
  const res = await t.gql(CREATE_TYPE, { input });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.createConnectionType;
}
