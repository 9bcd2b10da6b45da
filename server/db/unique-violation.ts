/**
 * A unique constraint refused the write (SQLSTATE 23505), on Postgres and PGlite alike. Drizzle
 * wraps the driver's error in its own, so the code is looked for along the `cause` chain.
 */
export const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' &&
  err !== null &&
  ((err as { code?: string }).code === '23505' || isUniqueViolation((err as { cause?: unknown }).cause));
