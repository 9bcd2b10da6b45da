/**
 * What a command prints: tables and "key  value" lines for people, the raw value with --json.
 * A command returns a value (rendered generically) or a {@link View} (its own text).
 */

export class View {
  constructor(
    /** Printed as-is with --json. */
    readonly json: unknown,
    /** Printed otherwise. */
    readonly text: string,
  ) {}
}

export const view = (json: unknown, text: string) => new View(json, text);

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Numbers read best right-aligned. */
  right?: boolean;
  /** Long cells (names, reasons) are cut to this many characters. */
  max?: number;
}

const cut = (s: string, max = 60) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A plain-text table: a header row, a rule, one line per row; `empty` when there are no rows. */
export function table<T>(rows: readonly T[], columns: Column<T>[], empty = '(none)'): string {
  if (rows.length === 0) return empty;
  const cells = rows.map((r) => columns.map((c) => cut(String(c.value(r) ?? '-').replace(/\s+/g, ' '), c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join(
    '\n',
  );
}

/**
 * A moment for people: the terminal's local time, `2026-12-03 23:00:00` (`minutes`: without the
 * seconds). --json keeps ISO 8601 in UTC.
 */
export function localTime(d: Date | number, minutes = false): string {
  const text = new Date(d).toLocaleString('sv-SE', { hour12: false });
  return minutes ? text.slice(0, 16) : text.slice(0, 19);
}

/** Hours and minutes in local time, for lines of one day (chat). */
export const clock = (d: Date) => localTime(d).slice(11, 16);

const scalar = (v: unknown): string =>
  v === null || v === undefined
    ? '-'
    : v instanceof Date
      ? localTime(v)
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !(v instanceof Date) && !Array.isArray(v);

/** Any value, readably: a list of objects as a table of its simple fields, an object as aligned lines. */
export function render(value: unknown): string {
  if (value instanceof View) return value.text;
  if (Array.isArray(value)) {
    if (!value.every(isRecord)) return value.map(scalar).join('\n') || '(none)';
    const keys = [
      ...new Set(value.flatMap((row) => Object.keys(row).filter((k) => !isRecord(row[k]) && !Array.isArray(row[k])))),
    ];
    return table(
      value,
      keys.map((k) => ({
        header: k,
        value: (row) => scalar(row[k]),
        right: value.some((row) => typeof row[k] === 'number'),
      })),
    );
  }
  if (isRecord(value)) {
    const keys = Object.keys(value);
    const width = Math.max(...keys.map((k) => k.length));
    return keys
      .map((k) => {
        const v = value[k];
        if (Array.isArray(v) || isRecord(v)) return `${k}:\n${indent(render(v))}`;
        return `${k.padEnd(width)}  ${scalar(v)}`;
      })
      .join('\n');
  }
  return scalar(value);
}

const indent = (s: string) =>
  s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
