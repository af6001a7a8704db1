export interface ExampleOperation {
  title: string;
  /** One or more named operations; the explorer runs the one under the cursor. */
  query: string;
  /** Shown in the Variables editor. `<…>` strings stand for ids and codes the reader takes from an earlier answer. */
  variables?: Record<string, unknown>;
}

/**
 * Opened as tabs in the explorer. Every operation in a ```graphql block of the README is one of these, word for word
 * (test/app/examples.test.ts); each runs through Apollo Client against a real server and is type-checked by
 * GraphQL Code Generator against schema.graphql (test/app/real-clients.test.ts).
 */
export const EXAMPLE_OPERATIONS: ExampleOperation[] = [
  {
    title: 'Modules and who I am',
    query: `# Your key is in the Headers tab below; "Change key" (top right) replaces it.
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
    variables: { fields: { firstName: 'Asha', lastName: 'Rao', email: 'asha@example.com', mobile: '+919876543210' } },
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
    variables: { id: '<record id>' },
  },
  {
    title: 'Define a connection type (admins)',
    query: `mutation DefineConnectionType($input: CreateConnectionTypeInput!) {
  createConnectionType(input: $input) {
    connectionType { id name inverseName symmetric sourceModules targetModules properties { key type required options } }
    userErrors { field message code }
  }
}`,
    variables: {
      input: {
        name: 'supplies', inverseName: 'is supplied by', sourceModules: ['Vendors'], targetModules: ['Organizations'],
        properties: [
          { key: 'category', label: 'Category', type: 'PICKLIST', required: true, options: ['Hardware', 'Software', 'Services'] },
          { key: 'contractValue', label: 'Contract value', type: 'NUMBER' },
        ],
      },
    },
  },
  {
    title: 'Connect a contact to an organization',
    query: `# "is working at" is a seeded type; list them with: { connectionTypes(filter: { module: "Contacts" }) { nodes { id name inverseName } } }
mutation Connect($input: CreateConnectionInput!) {
  createConnection(input: $input) {
    connection { id status startDate type { name inverseName } source { label } target { label } }
    userErrors { field message code }
  }
}`,
    variables: {
      input: { typeId: '00000000-0000-4000-8100-000000000006', sourceId: '<contact id>', targetId: '<organization id>', startDate: '2024-04-01' },
    },
  },
  {
    title: "A record's connections, from its side",
    query: `# From the contact: "is working at Acme"; from Acme: "employs Asha Rao"
query RecordConnections($id: ID!) {
  record(id: $id) {
    label
    connections(first: 20, filter: { status: ACTIVE }) {
      totalCount
      nodes { label direction status startDate endDate properties type { name } otherRecord { id module label } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`,
    variables: { id: '<record id>' },
  },
  {
    title: 'Connection integrity report and repair (admins)',
    query: `query IntegrityReport {
  connectionIntegrityReport(first: 50) {
    totalCount
    nodes { kind connectionId message repairs duplicateOfId }
  }
}

# Run with dryRun: true first to see what would happen
mutation Repair($actions: [RepairActionInput!]!) {
  repairConnections(actions: $actions, dryRun: true) {
    dryRun appliedCount
    results { connectionId kind action applied message userErrors { code message } }
  }
}`,
    variables: { actions: [{ connectionId: '<connection id>', kind: 'MODULE_MISMATCH', action: 'END' }] },
  },
  {
    title: 'Send an OTP',
    query: `mutation SendOtp($input: SendOtpInput!) {
  sendOtp(input: $input) {
    otpRequest { id channels maskedMobileNo status expiresAt deliveries { channel status provider } }
    userErrors { field message code }
  }
}`,
    variables: { input: { mobileNo: '7977251637', channels: ['SMS'], source: 'impactx', type: 'simple_otp', otpCodeLength: 4, otpCodeType: 'NUMERIC' } },
  },
  {
    title: 'Verify an OTP',
    query: `# With the default log providers the code is in the server log.
mutation VerifyOtp($input: VerifyOtpInput!) {
  verifyOtp(input: $input) {
    verified
    attemptsLeft
    otpRequest { id status verifiedAt }
    userErrors { field message code }
  }
}`,
    variables: { input: { mobileNo: '7977251637', source: 'impactx', code: '1234' } },
  },
  {
    title: 'A fallback send',
    query: `# WhatsApp at once; SMS 30 s later, then email 60 s after that, each only while the OTP is still pending (not verified).
# Same code on every step; the later steps are SCHEDULED deliveries, SKIPPED if the OTP was verified (or canceled) first.
mutation FallbackSend($input: SendOtpInput!) {
  sendOtp(input: $input) {
    otpRequest { id channels status expiresAt deliveries { channel status workflowStep scheduledAt } }
    userErrors { field message code }
  }
}`,
    variables: {
      input: {
        mobileNo: '7977251637', email: 'user@example.com', emailFromName: 'Countersign', emailSubject: 'Your code', emailTemplateId: 'otp_email',
        source: 'impactx', type: 'simple_otp',
        workflow: [{ channel: 'WHATSAPP' }, { channel: 'SMS', waitSeconds: 30 }, { channel: 'EMAIL', waitSeconds: 60 }],
      },
    },
  },
  {
    title: 'OTP requests and deliveries',
    query: `query OtpRequests($after: String) {
  otpRequests(first: 20, after: $after, filter: { status: PENDING }) {
    totalCount
    nodes { id source status attempts maxAttempts sendCount createdAt
            deliveries { channel status provider providerMessageId error attempts sentAt } }
    pageInfo { hasNextPage endCursor }
  }
}`,
  },
  {
    title: 'Define an OTP rule (admins)',
    query: `mutation DefineRule($input: OtpRuleInput!) {
  createOtpRule(input: $input) {
    otpRule { id name sanitizedName acceptedKeys }
    userErrors { field message code }
  }
}`,
    variables: {
      input: {
        name: 'Deactivate contact', module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
        conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
      },
    },
  },
  {
    title: 'Send a rule OTP, then a guarded update',
    query: `# 1. Send the rule's OTP to the record's recipient
mutation SendRuleOtp($ruleId: Int!, $id: ID!) {
  sendRuleOtp(ruleId: $ruleId, recordId: $id) {
    otpRequest { id maskedMobileNo maskedEmail expiresAt rule { name } }
    userErrors { field message code }
  }
}

# 2. Save with the code (or pass it as fields.OTPRULES_OTP_<id> or the OTPRULES-OTP-<id> header)
mutation GuardedUpdate($id: ID!, $otp: [OtpInput!]) {
  updateRecord(id: $id, fields: { contactStatus: "Inactive" }, otp: $otp) {
    record { id version fields }
    userErrors { field message code details }
  }
}`,
    variables: { ruleId: 1, id: '<contact id>', otp: [{ rule: '1', code: '<code>' }] },
  },
  {
    title: 'Webhook endpoint and its delivery log (admins)',
    query: `# The answer's secret (whsec_…) is shown this once: verify signatures with any Standard Webhooks library
mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    webhookEndpoint { id url eventTypes active }
    secret
    userErrors { field message code }
  }
}

query WebhookDeliveries($id: ID!) {
  webhookEndpoint(id: $id) {
    active disabledReason failingSince
    deliveries(first: 20) {
      nodes { id eventType subject status attempts lastResponseCode nextAttemptAt
              attemptLog { attempt succeeded responseCode durationMs error attemptedAt } }
    }
  }
}

mutation Replay($deliveryId: ID!) {
  replayWebhookDelivery(id: $deliveryId) { webhookDelivery { id status replayOf } userErrors { field message code } }
}`,
    variables: {
      input: { url: '<your receiver URL, e.g. https…/hooks>', eventTypes: ['otp.sent', 'otp.delivery.updated', 'otp.verified', 'connection.created'] },
      id: '<endpoint id>', deliveryId: '<delivery id>',
    },
  },
  {
    title: 'Subscribe to an OTP request',
    query: `# Runs over WebSocket (graphql-ws) on /graphql; the Authorization header below is sent as connectionParams.
# Answers at once with the request as it is, then after each change (from any server instance).
subscription OtpRequestUpdated($id: ID!) {
  otpRequestUpdated(id: $id) {
    id status attempts verifiedAt
    deliveries { channel status provider sentAt deliveredAt failedAt error }
  }
}`,
    variables: { id: '<otp request id>' },
  },
  {
    title: 'Fraud guard: today',
    query: `# Admins: conversion per country, channel, source and rule (last 24 h), prefix blocks in force, refused sends
query FraudToday {
  conversionSummary(first: 20) { nodes { country channel source ruleId sends verified blocked monitored conversionRate } }
  prefixBlocks(first: 20) { nodes { prefix country level reason expiresAt } }
  blockedSends(first: 20) { totalCount nodes { createdAt reason maskedNumber country numberType source } }
}

# Stop a country, let a QA phone through everything; unblockPrefix(prefix: "+91987654") lifts a block (docs/fraud-guard.md)
mutation FraudAct {
  setGeoPermission(country: "IT", action: BLOCK) { geoPermission { country action origin } userErrors { field message code } }
  addSafeListEntry(input: { kind: NUMBER, value: "+447911123456", note: "QA phone" }) { safeListEntry { id value } userErrors { field message code } }
}`,
  },
  {
    title: 'Create a record with its connections, then merge a duplicate',
    query: `# A second "Asha Rao", created working at Acme in one request: the record and its connections, all or nothing
mutation CreateWithConnections($fields: JSONObject!, $connections: [NewRecordConnectionInput!]) {
  createRecord(module: "Contacts", fields: $fields, connections: $connections) {
    record { id label }
    userErrors { field message code }
  }
}

# Merge it into the first: fields chosen per record; its connections move to the survivor (or fold into an equal one)
mutation MergeRecords($survivorId: ID!, $mergedIds: [ID!]!, $fieldChoices: [FieldChoiceInput!]) {
  mergeRecords(survivorId: $survivorId, mergedIds: $mergedIds, fieldChoices: $fieldChoices) {
    record { id label fields }
    mergedIds
    connections { connectionId outcome intoConnectionId }
    userErrors { field message code }
  }
}`,
    variables: {
      fields: { firstName: 'Asha', lastName: 'Rao', email: 'asha@acme.example' },
      connections: [{ typeId: '00000000-0000-4000-8100-000000000006', otherId: '<organization id>', side: 'SOURCE', startDate: '2023-01-01' }],
      survivorId: '<contact id>',
      mergedIds: ['<duplicate id>'],
      fieldChoices: [{ field: 'email', fromId: '<duplicate id>' }],
    },
  },
];
