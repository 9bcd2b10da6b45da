import { createWSClient } from '@trpc/client';

/**
 * Which transport carries the app's subscriptions: one WebSocket, or (when a proxy on the way
 * strips `Upgrade`) server-sent events over plain HTTP, one stream per subscription. The app
 * starts on the WebSocket, falls back by itself when the WebSocket cannot open while HTTP
 * answers, and keeps trying the WebSocket with backoff to go back to it once it works.
 */
export type Transport = 'ws' | 'sse';

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;
/** Failed opens in a row, with HTTP answering, before the app takes the WebSocket for blocked. */
const FAILED_OPENS_BEFORE_FALLBACK = 2;
/** While on SSE the WebSocket is tried again after 3 s, 6 s, 12 s … capped at a minute. */
const probeDelayMs = (attempt: number) => Math.min(3_000 * 2 ** attempt, 60_000);

let failedOpens = 0;
let checkingHttp = false;
let probeTimer: ReturnType<typeof setTimeout> | undefined;
let current: Transport = 'ws';

const openWsClient = () => {
  let opened = false;
  const client = createWSClient({
    url: wsUrl,
    // 0.5 s, 1 s, 2 s … capped at 10 s: quick after a deploy, gentle during an outage.
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 10_000),
    onOpen: () => {
      opened = true;
      failedOpens = 0;
    },
    onClose: () => {
      if (opened) opened = false;
      else if (client === wsClient) void openFailed();
    },
  });
  return client;
};

export type WsClient = ReturnType<typeof openWsClient>;
export type RealtimeState = ReturnType<WsClient['connectionState']['get']>['state'];

export let wsClient: WsClient = openWsClient();
const changeListeners = new Set<() => void>();
const stateListeners = new Set<(state: RealtimeState) => void>();
const followState = (client: WsClient) => client.connectionState.subscribe({ next: () => stateChanged() });

/** Per SSE subscription, its stream's state (from httpSubscriptionLink): bounded by the open subscriptions. */
const sseStates = new Map<number, RealtimeState>();

function stateChanged() {
  const state = realtimeState.get();
  stateListeners.forEach((l) => l(state));
}

/** The WebSocket did not open. Blocked (HTTP answers) or down (it does not): only the first is a reason to leave it. */
async function openFailed() {
  if (current !== 'ws' || checkingHttp || ++failedOpens < FAILED_OPENS_BEFORE_FALLBACK) return;
  checkingHttp = true;
  try {
    const res = await fetch('/healthz', { cache: 'no-store' }).catch(() => null);
    // 503 is our server answering (its database is away); a proxy's 502 is the server down.
    const answers = res !== null && (res.status < 500 || res.status === 503);
    if (answers && current === 'ws' && failedOpens >= FAILED_OPENS_BEFORE_FALLBACK) switchTo('sse');
  } finally {
    checkingHttp = false;
  }
}

function switchTo(next: Transport) {
  if (current === next) return;
  current = next;
  if (next === 'ws') {
    clearTimeout(probeTimer);
    replaceWsClient();
  }
  // Moved first: closing the WebSocket client completes whatever subscriptions it still holds.
  changeListeners.forEach((l) => l());
  if (next === 'sse') {
    void wsClient.close();
    probe(0);
  }
  stateChanged();
}

/** On SSE: a bare WebSocket opened now and then; the first that opens brings the app back to it. */
function probe(attempt: number) {
  clearTimeout(probeTimer);
  probeTimer = setTimeout(() => {
    const ws = new WebSocket(wsUrl);
    ws.onopen = () => {
      ws.close();
      failedOpens = 0;
      switchTo('ws');
    };
    ws.onerror = () => {
      if (current === 'sse') probe(attempt + 1);
    };
  }, probeDelayMs(attempt));
}

function replaceWsClient() {
  const old = wsClient;
  following.unsubscribe();
  wsClient = openWsClient();
  following = followState(wsClient);
  if (old !== wsClient) void old.close();
}

export const transport = {
  current: (): Transport => current,
  /** Runs `fn` whenever the transport changes (the subscriptions move: movable-link.ts). */
  onChange(fn: () => void): () => void {
    changeListeners.add(fn);
    return () => changeListeners.delete(fn);
  },
  /** An SSE subscription's stream state changed; `null` when it ended. */
  sseState(opId: number, state: RealtimeState | null) {
    if (state === null) sseStates.delete(opId);
    else sseStates.set(opId, state);
    if (current === 'sse') stateChanged();
  },
};

/** The realtime connection's state, whichever transport carries it: on SSE, connected when every stream is. */
export const realtimeState = {
  get: (): RealtimeState => {
    if (current === 'ws') return wsClient.connectionState.get().state;
    return [...sseStates.values()].some((s) => s === 'connecting') ? 'connecting' : 'pending';
  },
  transport: (): Transport => current,
  subscribe(listener: (state: RealtimeState) => void): () => void {
    stateListeners.add(listener);
    return () => stateListeners.delete(listener);
  },
};

/**
 * The WebSocket's session is fixed when it connects, so after signing in or out the client is
 * replaced by a new one (which connects with the new cookie), and the old one is closed.
 * Closing and reopening the same client raced with subscriptions started at that moment: one
 * sent on the closing, still anonymous socket was refused and never sent again. Over SSE each
 * stream sends the cookie of its own request: nothing to replace.
 */
export function reconnectRealtime() {
  if (current !== 'ws') return;
  replaceWsClient();
  stateChanged();
}

// Last: the subscription reports the current state at once, which reads everything above.
let following = followState(wsClient);
