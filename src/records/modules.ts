export type FieldType = 'text' | 'email' | 'phone' | 'number' | 'currency' | 'date' | 'boolean' | 'picklist' | 'reference';

export interface FieldDefinition {
  name: string;
  label: string;
  type: FieldType;
  mandatory?: boolean;
  /** Allowed values of a picklist. */
  values?: string[];
  /** Modules a reference field may point at. */
  references?: string[];
  maxLength?: number;
}

export interface ModuleDefinition {
  name: string;
  singular: string;
  fields: FieldDefinition[];
  /** Fields joined with a space make the record's label. */
  labelFields: string[];
  /** The picklist field holding the record's state, and which of its values count as closed. */
  closedStates?: { field: string; values: string[] };
}

const text = (name: string, label: string, extra: Partial<FieldDefinition> = {}): FieldDefinition => ({ name, label, type: 'text', ...extra });
const picklist = (name: string, label: string, values: string[], extra: Partial<FieldDefinition> = {}): FieldDefinition =>
  ({ name, label, type: 'picklist', values, ...extra });
const reference = (name: string, label: string, references: string[]): FieldDefinition => ({ name, label, type: 'reference', references });

const contactDetails: FieldDefinition[] = [
  { name: 'email', label: 'Email', type: 'email' },
  { name: 'mobile', label: 'Mobile', type: 'phone' },
  { name: 'phone', label: 'Phone', type: 'phone' },
];

/** The CRM modules, defined in code. OTP rules and connections act on records of these modules. */
export const MODULES: ModuleDefinition[] = [
  {
    name: 'Leads',
    singular: 'Lead',
    labelFields: ['firstName', 'lastName'],
    fields: [
      text('firstName', 'First Name'),
      text('lastName', 'Last Name', { mandatory: true }),
      text('company', 'Company'),
      ...contactDetails,
      picklist('leadStatus', 'Lead Status', ['New', 'Contacted', 'Qualified', 'Converted', 'Lost', 'Junk']),
      picklist('leadSource', 'Lead Source', ['Web', 'Referral', 'Partner', 'Campaign', 'Other']),
      { name: 'annualRevenue', label: 'Annual Revenue', type: 'currency' },
    ],
    closedStates: { field: 'leadStatus', values: ['Converted', 'Lost', 'Junk'] },
  },
  {
    name: 'Contacts',
    singular: 'Contact',
    labelFields: ['firstName', 'lastName'],
    fields: [
      text('firstName', 'First Name'),
      text('lastName', 'Last Name', { mandatory: true }),
      ...contactDetails,
      text('title', 'Title'),
      reference('organizationId', 'Organization', ['Organizations']),
      { name: 'birthday', label: 'Birthday', type: 'date' },
      { name: 'doNotCall', label: 'Do Not Call', type: 'boolean' },
      picklist('contactStatus', 'Status', ['Active', 'Inactive']),
    ],
    closedStates: { field: 'contactStatus', values: ['Inactive'] },
  },
  {
    name: 'Organizations',
    singular: 'Organization',
    labelFields: ['name'],
    fields: [
      text('name', 'Organization Name', { mandatory: true }),
      { name: 'email', label: 'Email', type: 'email' },
      { name: 'phone', label: 'Phone', type: 'phone' },
      text('website', 'Website'),
      picklist('industry', 'Industry', ['Banking', 'Education', 'Healthcare', 'Manufacturing', 'Retail', 'Technology', 'Other']),
      { name: 'employees', label: 'Employees', type: 'number' },
      picklist('accountStatus', 'Status', ['Active', 'Inactive']),
    ],
    closedStates: { field: 'accountStatus', values: ['Inactive'] },
  },
  {
    name: 'Vendors',
    singular: 'Vendor',
    labelFields: ['name'],
    fields: [
      text('name', 'Vendor Name', { mandatory: true }),
      { name: 'email', label: 'Email', type: 'email' },
      { name: 'phone', label: 'Phone', type: 'phone' },
      text('website', 'Website'),
      picklist('vendorStatus', 'Status', ['Active', 'Inactive']),
    ],
    closedStates: { field: 'vendorStatus', values: ['Inactive'] },
  },
  {
    name: 'Deals',
    singular: 'Deal',
    labelFields: ['name'],
    fields: [
      text('name', 'Deal Name', { mandatory: true }),
      { name: 'amount', label: 'Amount', type: 'currency' },
      picklist('stage', 'Sales Stage', ['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost'], { mandatory: true }),
      { name: 'closeDate', label: 'Expected Close Date', type: 'date' },
      reference('organizationId', 'Organization', ['Organizations']),
      reference('contactId', 'Contact', ['Contacts']),
      { name: 'probability', label: 'Probability (%)', type: 'number' },
    ],
    closedStates: { field: 'stage', values: ['Closed Won', 'Closed Lost'] },
  },
  {
    name: 'Cases',
    singular: 'Case',
    labelFields: ['title'],
    fields: [
      text('title', 'Title', { mandatory: true }),
      picklist('status', 'Status', ['Open', 'In Progress', 'Waiting', 'Resolved', 'Closed'], { mandatory: true }),
      picklist('priority', 'Priority', ['Low', 'Medium', 'High', 'Urgent']),
      reference('contactId', 'Contact', ['Contacts']),
      reference('organizationId', 'Organization', ['Organizations']),
      text('description', 'Description', { maxLength: 10000 }),
    ],
    closedStates: { field: 'status', values: ['Resolved', 'Closed'] },
  },
  {
    name: 'Invoices',
    singular: 'Invoice',
    labelFields: ['subject'],
    fields: [
      text('subject', 'Subject', { mandatory: true }),
      text('invoiceNo', 'Invoice No'),
      picklist('status', 'Status', ['Created', 'Approved', 'Sent', 'Paid', 'Cancelled', 'Credit Invoice'], { mandatory: true }),
      { name: 'amount', label: 'Total', type: 'currency' },
      { name: 'dueDate', label: 'Due Date', type: 'date' },
      reference('organizationId', 'Organization', ['Organizations']),
      reference('contactId', 'Contact', ['Contacts']),
    ],
    closedStates: { field: 'status', values: ['Paid', 'Cancelled'] },
  },
];

const byName = new Map(MODULES.map((m) => [m.name.toLowerCase(), m]));

/** Looks a module up by name, case-insensitively. */
export function findModule(name: string): ModuleDefinition | undefined {
  return byName.get(name.toLowerCase());
}

export function findField(module: ModuleDefinition, name: string): FieldDefinition | undefined {
  return module.fields.find((f) => f.name === name);
}

export function isClosed(module: ModuleDefinition, fields: Record<string, unknown>): boolean {
  const states = module.closedStates;
  return !!states && states.values.includes(String(fields[states.field] ?? ''));
}

export function labelOf(module: ModuleDefinition, fields: Record<string, unknown>): string {
  const label = module.labelFields.map((f) => fields[f]).filter((v) => v != null && v !== '').join(' ');
  return label.slice(0, 500) || `(${module.singular})`;
}
