/** What the chat bench's processes say to each other over IPC, and the schedule they share. */

export type Target = 'hubcast' | 'socketio';
export const TARGETS: Target[] = ['hubcast', 'socketio'];

export interface Side {
  userId: string;
  /** Hubcast's session token; the Socket.IO seed trusts the handshake's user id. */
  token?: string;
}
export interface ServerReady {
  url: string;
  conversations: { id: number; sides: [Side, Side] }[];
}
export type ServerCommand = { cmd: 'cpu' } | { cmd: 'stop' };
export interface ServerCpu {
  user: number;
  system: number;
  /** Open chat.events subscriptions (Hubcast) or sockets in a conversation room (Socket.IO). */
  subscribers: number;
}

/** One user's connection, as a client process opens it. */
export interface Seat {
  conversationId: number;
  /** The conversation's index in the schedule (0 … conversations − 1). */
  index: number;
  side: 0 | 1;
  userId: string;
  token?: string;
}
export type ClientCommand =
  | { cmd: 'connect'; target: Target; url: string; seats: Seat[] }
  /** Sends this process's share of `rate` × `seconds` messages, the first due at `start` (epoch ms). */
  | { cmd: 'send'; rate: number; seconds: number; start: number; conversations: number }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'stop' };
export interface SendReport {
  sent: number;
  /** Sends the server answered with an error, by its code or message. */
  refused: Record<string, number>;
}
export interface ClientReport {
  /** Send-to-peer latencies (ms) of the messages this process's users received from their peers. */
  latencies: number[];
  lastAt: number;
}

/**
 * Message k of a stage goes to conversation k mod C, from side (k + ⌊k / C⌋) mod 2: every
 * conversation hears from both people in turn, and both client processes send all the time.
 */
export const conversationOf = (k: number, conversations: number) => k % conversations;
export const sideOf = (k: number, conversations: number) => ((k + Math.floor(k / conversations)) % 2) as 0 | 1;

/** The due time travels in the content, so the receiver reads it back: `bench <k> <due ms>`. */
export const contentFor = (k: number, due: number) => `bench ${k} ${due.toFixed(3)}`;
export function dueOf(content: string): number | null {
  const m = /^bench \d+ (\d+\.\d+)$/.exec(content);
  return m ? Number(m[1]) : null;
}
