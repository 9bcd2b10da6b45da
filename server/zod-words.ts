import { z } from 'zod';

/**
 * Words for the checks a schema left without its own message. Zod's defaults ("Invalid
 * input: expected number, received string") say neither which field nor what to do; the
 * field is named from its key in words (`positionSize` → "Position size"), never as the key.
 */
export function installReadableZodDefaults(): void {
  z.config({ customError: readableDefault });
}

type Issue = z.core.$ZodRawIssue;

const KINDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'yes or no',
  array: 'a list',
  object: 'a set of fields',
  date: 'a date',
  bigint: 'a whole number',
};

function readableDefault(issue: Issue): string | undefined {
  const what = fieldInWords(issue.path ?? []);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `${what} is missing.`;
      return `${what} must be ${KINDS[issue.expected] ?? issue.expected}.`;
    case 'too_small':
      return `${what} ${bound(issue.origin, issue.minimum, issue.inclusive, 'at least', 'above')}.`;
    case 'too_big':
      return `${what} ${bound(issue.origin, issue.maximum, issue.inclusive, 'at most', 'below')}.`;
    case 'invalid_value':
      return `${what} must be one of: ${issue.values.map((v) => String(v)).join(', ')}.`;
    case 'invalid_format':
      return `${what} is not in the expected form (${issue.format}).`;
    case 'not_multiple_of':
      return `${what} must be a multiple of ${String(issue.divisor)}.`;
    case 'unrecognized_keys':
      return `This request does not take ${issue.keys.map((k) => `"${k}"`).join(', ')}: leave ${issue.keys.length > 1 ? 'them' : 'it'} out.`;
    case 'invalid_union':
      return `${what} is not any of the accepted forms.`;
    default:
      return undefined;
  }
}

function bound(origin: string, limit: unknown, inclusive: boolean | undefined, atLeast: string, strict: string) {
  const n = String(limit);
  const phrase = inclusive === false ? `must be ${strict} ${n}` : `must be ${atLeast} ${n}`;
  if (origin === 'string') return `${phrase} characters long`;
  if (origin === 'array' || origin === 'set') return `${phrase} items long`;
  return phrase;
}

/** The nearest named key, in words: ["rule", "positionSize"] → "Position size"; an item of a list → "Each item of tags". */
function fieldInWords(path: readonly PropertyKey[]): string {
  const names = path.filter((p): p is string => typeof p === 'string');
  const last = names.at(-1);
  if (last === undefined) return 'The input';
  const words = last
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim();
  if (typeof path.at(-1) === 'number') return `Each item of ${words}`;
  return words.charAt(0).toUpperCase() + words.slice(1);
}
