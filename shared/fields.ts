import { z } from 'zod';

/** The id of one of our records, named for people: `recordId('collection')` → "Give the collection id (a number)." */
export const recordId = (what: string) =>
  z
    .number({ error: `Give the ${what} id (a number).` })
    .int({ error: `The ${what} id is a whole number.` })
    .positive({ error: `The ${what} id is a positive number.` });

/** How many items one page of a list holds. */
export const pageSize = (max: number, fallback: number) =>
  z
    .number({ error: 'The page size must be a number.' })
    .int({ error: 'The page size must be a whole number.' })
    .min(1, { error: 'The page size is at least 1.' })
    .max(max, { error: `The page size is at most ${max}.` })
    .default(fallback);
