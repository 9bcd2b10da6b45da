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

export function useConnectionStatus(): ConnectionStatus {
  const online = useOnline();
  const [state, setState] = useState(realtimeState.get());
  useEffect(() => {
    return realtimeState.subscribe(setState);
  }, []);
  if (!online) return 'offline';
  // tRPC calls an open socket "pending" (ready for requests).
  return state === 'pending' ? 'connected' : 'reconnecting';
}

const LABELS: Record<ConnectionStatus, string> = {
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function ConnectionIndicator() {
  const status = useConnectionStatus();
  return (
    <span
      className={`connection connection-${status}`}
      data-testid="connection"
      data-status={status}
      role="status"
      title={`Realtime connection: ${status}`}
    >
      <span className="dot" aria-hidden /> {LABELS[status]}
    </span>
  );
}
