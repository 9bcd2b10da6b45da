/**
 * Process-wide WebSocket delivery counters behind /metrics. Plain numbers bumped on the hot
 * path: a labelled prom-client counter per send would cost more than the send.
 */
export const wsCounters = {
  messagesSent: 0,
  bytesSent: 0,
  /** Events dispatched through a topic fan-out (each encoded once, see frames.ts). */
  fanoutEvents: 0,
  /** Socket writes by the fan-out: fewer than the messages it sent when queued events share a write. */
  fanoutWrites: 0,
  /** Forming updates skipped for a reader that was behind (it gets the newest one later). */
  conflated: 0,
  limitDisconnects: 0,
};
