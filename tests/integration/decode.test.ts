import { TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { decodeInput } from '../../server/transport/decode';

const refused = (raw: unknown) => {
  try {
    decodeInput(raw);
  } catch (err) {
    return err instanceof TRPCError && err.code === 'BAD_REQUEST' && err.message === 'malformed request body';
  }
  return false;
};

describe('decodeInput', () => {
  it('decodes what superjson encodes: dates, maps, undefined, shared references', () => {
    const shared = { a: 1 };
    const value = { when: new Date(5), map: new Map([['k', 1]]), gone: undefined, x: shared, y: shared };
    expect(decodeInput(superjson.serialize(value))).toEqual(value);
    expect(decodeInput({ json: { plain: 'text' } })).toEqual({ plain: 'text' });
  });

  it('refuses anything that is not an envelope, or whose meta is unbounded or builds a cycle', () => {
    expect(decodeInput(undefined)).toBeUndefined();
    expect(refused(null)).toBe(true);
    expect(refused([])).toBe(true);
    expect(refused({ email: 'a@example.com' })).toBe(true);
    expect(refused({ json: {}, extra: 1 })).toBe(true);
    expect(refused({ json: {}, meta: { values: {}, other: 1 } })).toBe(true);
    expect(refused({ json: { a: {} }, meta: { referentialEqualities: { a: ['a.b'] } } })).toBe(true);
    expect(refused({ json: { a: {} }, meta: { values: { a: ['map'] } } })).toBe(true);
    expect(refused(JSON.parse(`{"json":{},"meta":{"values":${'{"a":'.repeat(100)}["Date"]${'}'.repeat(100)}}}`))).toBe(
      true,
    );
  });
});
