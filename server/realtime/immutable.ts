/**
 * Values a stream promises never to change once yielded. The transport encodes such a value
 * once and sends those bytes to every subscription that yields the same object: after a
 * restart thousands of subscriptions of one series replay the same page (read once, see
 * db/batched-read.ts), and encoding it for each was most of the resume's cost.
 */
const immutable = new WeakSet<object>();

export function markImmutable<T extends object>(value: T): T {
  immutable.add(value);
  return value;
}

export const isImmutable = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && immutable.has(value);
