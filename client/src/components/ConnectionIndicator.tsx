import { useEffect, useState } from 'react';
import { realtimeState } from '../trpc';

export type ConnectionStatus = 'connected' | 'reconnecting' | 'offline';

function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  return online;
}

const readRealtime = () => ({ state: realtimeState.get(), transport: realtimeState.transport() });

/** The realtime connection's status and the transport carrying it (the WebSocket, or SSE where a proxy blocks it). */
export function useConnectionStatus() {
  const online = useOnline();
  const [now, setNow] = useState(readRealtime);
  // Read both on every change: a change of transport may leave the state as it was.
  useEffect(() => realtimeState.subscribe(() => setNow(readRealtime())), []);
  // tRPC calls an open connection "pending" (ready for requests).
  const status: ConnectionStatus = !online ? 'offline' : now.state === 'pending' ? 'connected' : 'reconnecting';
  return { status, transport: now.transport };
}

const LABELS: Record<ConnectionStatus, string> = {
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const TRANSPORTS = {
  ws: { short: 'WS', long: 'over a WebSocket' },
  sse: { short: 'SSE', long: 'over server-sent events (a proxy blocks the WebSocket; it is tried again now and then)' },
} as const;

export function ConnectionIndicator() {
  const { status, transport } = useConnectionStatus();
  return (
    <span
      className={`connection connection-${status}`}
      data-testid="connection"
      data-status={status}
      data-transport={transport}
      role="status"
      title={`Realtime connection: ${status}, ${TRANSPORTS[transport].long}`}
    >
      <span className="dot" aria-hidden /> {LABELS[status]}{' '}
      <span className="transport" data-testid="transport">
        {TRANSPORTS[transport].short}
      </span>
    </span>
  );
}
