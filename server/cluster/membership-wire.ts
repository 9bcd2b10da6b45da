/** What instances tell each other about membership (cluster/membership.ts), one bus topic per membership. */

export type Entry = [key: string, id: string, name: string, since: number];
export type Change = ['+', key: string, id: string, name: string, since: number] | ['-', key: string, id: string];
export interface Head {
  instance: string;
  /** Per process start: an instance restarted under the same INSTANCE_ID is a new one. */
  epoch: string;
}
export type Message = Head &
  /** This instance's entries that began or ended, numbered in sending order. */
  (
    | { kind: 'changes'; seq: number; changes: Change[] }
    /** Once a period: alive, and the number of its last changes message. */
    | { kind: 'beat'; seq: number }
    /** Everything it holds as of `seq`, in parts; replaces what a receiver heard from it before. */
    | { kind: 'snapshot'; seq: number; entries: Entry[]; first: boolean; last: boolean }
    /** Send me your snapshot: `of` one instance, or null for everyone (an instance starting). */
    | { kind: 'ask'; of: string | null }
    /** Shutting down: drop what I held now, without waiting three periods. */
    | { kind: 'bye' }
  );

/** A message is split at about this many bytes, so each fits one NOTIFY inline (pg-bus.ts). */
const MESSAGE_BYTES = 6_000;
const ENTRY_OVERHEAD = 40;

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** `items` in parts of about MESSAGE_BYTES (by `size` plus a fixed overhead each); none when empty. */
export function chunks<T>(items: T[], size: (item: T) => number): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let bytes = 0;
  for (const item of items) {
    // A UTF-16 unit is at most 3 bytes of UTF-8: the bound holds whatever the names are written in.
    const n = size(item) * 3 + ENTRY_OVERHEAD;
    if (part.length && bytes + n > MESSAGE_BYTES) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(item);
    bytes += n;
  }
  if (part.length) parts.push(part);
  return parts;
}
