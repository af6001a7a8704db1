import 'reflect-metadata';
import { validate } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';
import { PageArgs } from '../core/pagination';
import { SendOtpInput } from '../otp/otp.types';
import { validateArgument } from './argument-validation';

const resolverData = {} as never;

function pageArgs(values: Record<string, unknown>): PageArgs {
  return Object.assign(new PageArgs(), values);
}

async function outcome(value: object): Promise<'passed' | 'refused'> {
  try {
    await validateArgument(value, PageArgs, resolverData);
    return 'passed';
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentValidationError);
    return 'refused';
  }
}

describe('argument validation (class-validator, once per distinct flat value)', () => {
  test('a page size past either bound is refused with type-graphql\'s ArgumentValidationError, naming the field', async () => {
    for (const first of [0, 101, -1]) {
      const error = await Promise.resolve(validateArgument(pageArgs({ first }), PageArgs, resolverData)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArgumentValidationError);
      expect((error as ArgumentValidationError).extensions.validationErrors).toEqual([expect.objectContaining({ property: 'first' })]);
    }
    await expect(validateArgument(pageArgs({ first: 1 }), PageArgs, resolverData)).resolves.toBeUndefined();
    await expect(validateArgument(pageArgs({ first: 100 }), PageArgs, resolverData)).resolves.toBeUndefined();
  });

  test('attacker: a value found valid does not make a refused one pass, and a refusal is never remembered', async () => {
    expect(await outcome(pageArgs({ first: 7, after: 'x' }))).toBe('passed');
    expect(await outcome(pageArgs({ first: 700, after: 'x' }))).toBe('refused');
    expect(await outcome(pageArgs({ first: 700, after: 'x' }))).toBe('refused');
    expect(await outcome(pageArgs({ first: '7' as never, after: 'x' }))).toBe('refused'); // '7' is not the number 7
    expect(await outcome(pageArgs({ first: Number.NaN }))).toBe('refused');
    expect(await outcome(pageArgs({ first: 7, after: 'x' }))).toBe('passed');
  });

  test('same answer as class-validator itself for 2,000 values in random order (the remembered ones included)', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const candidates = [-1, 0, 1, 2, 50, 99, 100, 101, 1000, 1.5, Number.NaN, null, undefined];
    for (let i = 0; i < 2000; i += 1) {
      const value = pageArgs({ first: candidates[Math.floor(random() * candidates.length)], after: random() < 0.5 ? null : `c${Math.floor(random() * 3)}` });
      const expected = (await validate(value, { skipMissingProperties: true, forbidUnknownValues: false })).length ? 'refused' : 'passed';
      expect([value, await outcome(value)]).toEqual([value, expected]);
    }
  });

  test('a list argument is checked item by item', async () => {
    await expect(validateArgument([pageArgs({ first: 3 }), pageArgs({ first: 300 })], PageArgs, resolverData)).rejects.toBeInstanceOf(ArgumentValidationError);
  });

  test('a class without a validation decorator is not walked (its service validates every field at once)', async () => {
    // SendOtpInput carries no class-validator decorator: whatever it holds, class-validator would find nothing either
    const input = Object.assign(new SendOtpInput(), { mobileNo: 'not a number', channels: [] });
    expect(await validate(input, { skipMissingProperties: true, forbidUnknownValues: false })).toEqual([]);
    await expect(validateArgument(input, SendOtpInput, resolverData)).resolves.toBeUndefined();
  });
});

describe('attacker: argument values that are not class instances', () => {
  test('a JSON scalar\'s value (plain or null-prototype object, or a list of them) passes through untouched', async () => {
    const bare = Object.assign(Object.create(null) as object, { first: 1000, constructor: 'x' });
    await expect(validateArgument(bare, {} as never, resolverData)).resolves.toBeUndefined();
    await expect(validateArgument({ first: 1000 }, {} as never, resolverData)).resolves.toBeUndefined();
    await expect(validateArgument([Object.create(null), { first: -1 }], {} as never, resolverData)).resolves.toBeUndefined();
  });
});
