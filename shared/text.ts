import { z } from 'zod';

// C0 controls (NUL above all: Postgres cannot store it in text and answers with an error that
// quotes the statement) and DEL. Tabs and newlines only where a field is multi-line.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_OR_BREAK = /[\u0000-\u001F\u007F]/;

export interface TextOptions {
  /** Start of every message, e.g. "Names" or "The search". */
  label: string;
  /** Said when the field is missing or empty (min 1). */
  required?: string;
  min?: number;
  max: number;
  trim?: boolean;
  multiline?: boolean;
}

/**
 * The one string schema for user text: rejects control characters with a readable message,
 * then trims and bounds the length. Chain further checks (`.pipe`, `.regex`) onto it.
 */
export function text(opts: TextOptions) {
  const forbidden = opts.multiline ? CONTROL : CONTROL_OR_BREAK;
  const required = opts.required ?? `${opts.label} cannot be empty.`;
  let s = z.string({ error: required });
  if (opts.trim !== false) s = s.trim();
  s = s.refine((v) => !forbidden.test(v), {
    error: `${opts.label} cannot contain control characters${opts.multiline ? '' : ' or line breaks'}.`,
    abort: true,
  });
  const min = opts.min ?? 1;
  if (min > 0) s = s.min(min, { error: min === 1 ? required : `${opts.label} need at least ${min} characters.` });
  return s.max(opts.max, { error: `${opts.label} are at most ${opts.max} characters.` });
}
