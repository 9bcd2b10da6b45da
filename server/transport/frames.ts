import type { WebSocket } from 'ws';
import { isImmutable } from '../realtime/immutable';
import { idleSender, textFrame } from './internals';

/** One event as it goes on the wire: its tracked id (null for live-only events) and its data. */
export interface WireEvent {
  trackedId: string | null;
  data: unknown;
}

/** The router's output serializer (its transformer's, identity without one): what tRPC puts in `result.data`. */
export type Serialize = (value: unknown) => unknown;

/** An event encoded once: the transformer output as JSON, shared by every subscriber. */
export interface EncodedEvent {
  trackedId: string | null;
  /** `"id":"<trackedId>",` or '' — precomputed so the envelope is a concatenation. */
  idPart: string;
  json: string;
}

/** Counts encodes so /metrics and tests can see "once per event", whatever the subscriber count. */
export const encodeCounter = { encodes: 0 };

// Keyed on the bus payload: every subscriber of a topic receives that same object, so the
// first one to need its bytes pays for them and the rest reuse them; nothing outlives the event.
// One cache per serializer: two routers with different transformers never share bytes.
const caches = new WeakMap<Serialize, WeakMap<object, EncodedEvent>>();

/** What tRPC's adapter would put in `result.data`: the transformer output of `{ id, data }` when tracked. */
export function encodeEvent(payload: object, toWire: (p: never) => WireEvent, serialize: Serialize): EncodedEvent {
  let cache = caches.get(serialize);
  if (!cache) caches.set(serialize, (cache = new WeakMap()));
  let enc = cache.get(payload);
  if (enc) return enc;
  const { trackedId, data } = (toWire as (p: object) => WireEvent)(payload);
  enc = encodeWire(trackedId, data, serialize);
  cache.set(payload, enc);
  return enc;
}

/**
 * A stream's value as encodeWire would give it; a value marked immutable is encoded once per
 * tracked id and serializer, however many subscriptions yield it (realtime/immutable.ts).
 */
export function encodeValue(trackedId: string | null, data: unknown, serialize: Serialize): EncodedEvent {
  if (!isImmutable(data)) return encodeWire(trackedId, data, serialize);
  let cache = valueCaches.get(serialize);
  if (!cache) valueCaches.set(serialize, (cache = new WeakMap()));
  const hit = cache.get(data);
  if (hit?.trackedId === trackedId) return hit;
  const enc = encodeWire(trackedId, data, serialize);
  cache.set(data, enc);
  return enc;
}
const valueCaches = new WeakMap<Serialize, WeakMap<object, EncodedEvent>>();

export function encodeWire(trackedId: string | null, data: unknown, serialize: Serialize): EncodedEvent {
  encodeCounter.encodes++;
  const body = trackedId === null ? data : { id: trackedId, data };
  // Without a transformer `undefined` stays itself, which JSON cannot say: null is the nearest.
  const json = JSON.stringify(serialize(body)) ?? 'null';
  return { trackedId, idPart: trackedId === null ? '' : `"id":${JSON.stringify(trackedId)},`, json };
}

/** The part of a response that is the client's own: its request id and, if it sent one, jsonrpc. */
export function envelopeHead(reqId: string | number, jsonrpc: '2.0' | undefined): string {
  return `{"id":${JSON.stringify(reqId)},${jsonrpc ? '"jsonrpc":"2.0",' : ''}"result":{"type":"data",`;
}

const DATA_TYPE = '"type":"data",';

/**
 * `{"id":<req>,"result":{"type":"data","id":"<tracked>","data":<encoded>}}`, spliced rather than
 * re-encoded. A live-only event goes without `"type":"data"`: tRPC's WebSocket client takes the
 * id of every "data" result as its resume point, so an untracked one (a forming candle) would
 * erase it and the next reconnect would resubscribe without lastEventId, missing what was stored
 * meanwhile. The client delivers a result without a type as data all the same.
 */
export function dataMessage(head: string, enc: EncodedEvent): string {
  const h = enc.trackedId === null && head.endsWith(DATA_TYPE) ? head.slice(0, -DATA_TYPE.length) : head;
  return `${h}${enc.idPart}"data":${enc.json}}}`;
}

/** Whole WebSocket text frames (headers and payloads in one buffer: one frame, or several in a row), built once and written to many sockets. */
export type Frame = [Buffer];

export function buildFrame(message: string): Frame {
  // One buffer, so each socket costs one write rather than cork, two writes and uncork.
  return [Buffer.concat(textFrame(Buffer.from(message)))];
}

/**
 * Writes a prebuilt frame as Socket.IO's engine does, skipping ws's per-socket framing. Falls
 * back to `send` when the sender is busy (compressing, queueing) so frames never reorder.
 */
export function writeFrame(ws: WebSocket, frame: Frame, messages: string[]) {
  const sender = idleSender(ws);
  if (sender) sender.sendFrame(frame);
  else for (const m of messages) ws.send(m);
}
