import { checkConnectionType } from './connection-type.validation';

const base = { name: 'is working at', inverseName: 'employs', symmetric: false, sourceModules: ['contacts'], targetModules: ['Organizations', 'organizations'], allowSelf: false, properties: [], active: true };

describe('checkConnectionType', () => {
  test('normalises module names and whitespace, dropping repeated modules', () => {
    const { type, errors } = checkConnectionType({ ...base, name: '  is   working at ' });
    expect(errors).toEqual([]);
    expect(type).toMatchObject({ name: 'is working at', sourceModules: ['Contacts'], targetModules: ['Organizations'] });
  });

  test('a symmetric type takes its name as inverse name and refuses a different one', () => {
    expect(checkConnectionType({ ...base, symmetric: true, inverseName: null }).type.inverseName).toBe('is working at');
    expect(checkConnectionType({ ...base, symmetric: true }).errors.map((e) => e.field)).toEqual([['inverseName']]);
  });

  test('modules outside Leads, Contacts, Organizations and Vendors cannot be connected', () => {
    const { errors } = checkConnectionType({ ...base, sourceModules: ['Deals'], targetModules: [] });
    expect(errors.map((e) => `${e.code}@${e.field?.join('.')}`)).toEqual(['INVALID@sourceModules.0', 'REQUIRED@targetModules']);
  });

  test('picklists need options and other types refuse them', () => {
    const { type, errors } = checkConnectionType({ ...base, properties: [
      { key: 'tier', label: '', type: 'PICKLIST', options: [' Gold ', 'Gold', ''] },
      { key: 'note', label: 'Note', type: 'TEXT', options: ['x'] },
    ] });
    expect(type.properties[0]).toEqual({ key: 'tier', label: 'tier', type: 'PICKLIST', required: false, options: ['Gold'] });
    expect(errors.map((e) => e.field?.join('.'))).toEqual(['properties.1.options']);
  });
});
