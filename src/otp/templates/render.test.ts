import { templatePaths } from './render';

describe('templatePaths: the variables a rule template reads', () => {
  test('full dotted paths, helper names left out', () => {
    expect(templatePaths('Code {{otp}} to change {{record.label}}: {{change}}', '{{#if rule.name}}{{rule.name}}{{/if}}', null, undefined).sort())
      .toEqual(['change', 'otp', 'record.label', 'rule.name']);
  });

  test('with blocks, ../ and @root resolve to the root; each items stay unknown', () => {
    const text = '{{#with record}}{{firstName}} {{../otp}} {{@root.rule.name}}{{/with}}'
      + '{{#with record as |r|}}{{r.lastName}}{{/with}}{{#each record.tags}}{{this}} {{name}} {{@index}}{{/each}}{{#unless record.vip}}x{{/unless}}';
    expect(templatePaths(text).sort()).toEqual(['otp', 'record', 'record.firstName', 'record.lastName', 'record.tags', 'record.vip', 'rule.name']);
  });

  test('a template with no variables reads nothing', () => {
    expect(templatePaths('Hello')).toEqual([]);
  });
});
