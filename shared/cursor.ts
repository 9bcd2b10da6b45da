import { z } from 'zod';

// The one way to take a page link from a client. Every part is bounded before it reaches a
// query: a timestamp past year 9999 or an id past the bigint range is a database error (a 500)
// rather than an empty page, so it is refused here in words instead.

export const CURSOR_MESSAGE = 'This page link is out of date or malformed; reload the list.';
/** Latest instant a position cursor may carry: the end of year 9999 (Postgres and ISO agree up to there). */
export const CURSOR_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An id cursor: the last id of the page before, within the ids' (bigserial, JS-safe) range. */
export const idCursor = () =>
  z
    .number({ error: CURSOR_MESSAGE })
    .int({ error: CURSOR_MESSAGE })
    .min(1, { error: CURSOR_MESSAGE })
    .max(Number.MAX_SAFE_INTEGER, { error: CURSOR_MESSAGE })
    .nullish();

export interface Position {
  at: Date;
  id: number;
}

/** An order position (a card's place in its collection) then an id. */
export interface Order {
  position: number;
  id: number;
}

/** Largest order position: the integer (int4) column's range. */
export const CURSOR_MAX_ORDER = 2 ** 31 - 1;

const PAIR = /^(\d{1,15}):(\d{1,16})$/;

/** `<n>:<id>` with n in 0..max and id a positive safe integer, or null. */
function decodePair(cursor: string, max: number): [number, number] | null {
  const m = PAIR.exec(cursor);
  if (!m) return null;
  const n = Number(m[1]);
  const id = Number(m[2]);
  if (n > max || !Number.isSafeInteger(id) || id < 1) return null;
  return [n, id];
}

/** `<ms>:<id>` to a position, or null when any part is out of range. */
export function decodePosition(cursor: string): Position | null {
  const pair = decodePair(cursor, CURSOR_MAX_MS);
  return pair && { at: new Date(pair[0]), id: pair[1] };
}

export const encodePosition = (p: Position) => `${p.at.getTime()}:${p.id}`;

/** `<position>:<id>` to an order, or null when any part is out of range. */
export function decodeOrder(cursor: string): Order | null {
  const pair = decodePair(cursor, CURSOR_MAX_ORDER);
  return pair && { position: pair[0], id: pair[1] };
}

export const encodeOrder = (o: Order) => `${o.position}:${o.id}`;

const pairCursor = (decode: (cursor: string) => unknown) =>
  z
    .string({ error: CURSOR_MESSAGE })
    .max(40, { error: CURSOR_MESSAGE })
    .refine((v) => decode(v) !== null, { error: CURSOR_MESSAGE })
    .nullish();

/** An order cursor (`<position>:<id>`) for lists in a stored order, then an id (a collection's cards). */
export const orderCursor = () => pairCursor(decodeOrder);

/** A position cursor (`<ms>:<id>`) for lists ordered by an instant that moves, then an id. */
export const positionCursor = () => pairCursor(decodePosition);
