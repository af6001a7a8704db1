import { renderHtml, renderText, templatePaths } from './render';

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

describe('rendering: only the allow-listed helpers, whatever was stored', () => {
  test('a stored log or lookup call fails to render instead of running', () => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(() => renderText('{{log "LEAKED-OTP=" otp level="error"}}', { otp: '123456' })).toThrow(/unknown helper log/);
      expect(() => renderHtml('{{lookup this "otp"}}', { otp: '123456' })).toThrow(/unknown helper lookup/);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  test('prototype properties never resolve; allowed helpers and sections work', () => {
    const warn = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(renderText('[{{constructor}}][{{__proto__}}][{{#with record}}{{name}}{{/with}}][{{#each list}}{{this}}{{/each}}]', { record: { name: 'Ann' }, list: [1, 2] }))
        .toBe('[][][Ann][12]');
    } finally {
      warn.mockRestore();
    }
  });
});
