export interface ExampleOperation {
  title: string;
  query: string;
  variables?: string;
  headers?: string;
}

/** Opened as tabs in the explorer; the README shows the same operations. */
export const EXAMPLE_OPERATIONS: ExampleOperation[] = [
  {
    title: 'Modules and who I am',
    query: `# Paste your API key into the Headers tab below: {"Authorization": "Bearer cs_..."}
query ModulesAndMe {
  me { email role profile }
  modules { name singular fields { name label type mandatory values } closedStates { field values } }
}`,
  },
  {
    title: 'Create a contact',
    query: `mutation CreateContact($fields: JSONObject!) {
  createRecord(module: "Contacts", fields: $fields) {
    record { id label version fields }
    userErrors { field message code }
  }
}`,
    variables: JSON.stringify({ fields: { firstName: 'Asha', lastName: 'Rao', email: 'asha@example.com', mobile: '+919876543210' } }, null, 2),
  },
  {
    title: 'List records',
    query: `query Contacts($after: String) {
  records(module: "Contacts", first: 20, after: $after,
          where: [{ field: "lastName", operator: STARTS_WITH, value: "R" }],
          orderBy: { field: "lastName", direction: ASC }) {
    totalCount
    nodes { id label version owner { email } }
    pageInfo { hasNextPage endCursor }
  }
}`,
  },
  {
    title: 'Update with optimistic locking',
    query: `mutation UpdateContact($id: ID!) {
  updateRecord(id: $id, fields: { title: "CTO" }, expectedVersion: 1) {
    record { id version fields }
    userErrors { field message code }
  }
}`,
    variables: JSON.stringify({ id: '<record id>' }, null, 2),
  },
];
