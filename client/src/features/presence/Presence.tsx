import { othersOnline, usePresence } from './presence';
import './presence.css';

/**
 * A conversation's dot: green while someone else in it has the chat page open, hollow while
 * nobody does, absent while unknown (the socket is reconnecting).
 */
export function OnlineDot({
  conversationId,
  meId,
  name,
  withLabel = false,
}: {
  conversationId: number;
  meId: string;
  name: string;
  /** Says "online" or "offline" beside the dot (the conversation's header). */
  withLabel?: boolean;
}) {
  const online = othersOnline(usePresence(`conversation:${conversationId}`), meId);
  if (online === null) return null;
  const label = online ? `${name} is online` : `${name} is offline`;
  const dot = (
    <span
      className={`presence-dot ${online ? 'presence-online' : 'presence-offline'}`}
      data-testid="online-dot"
      data-online={online}
      // Beside its word the dot is decoration; alone (the sidebar) it says who is online.
      {...(withLabel ? { 'aria-hidden': true } : { role: 'img', 'aria-label': label })}
      title={label}
    />
  );
  if (!withLabel) return dot;
  return (
    <span className="presence-status muted" data-testid="presence-status" data-online={online} title={label}>
      {dot} {online ? 'online' : 'offline'}
    </span>
  );
}

/** "N watching" for a counted room (a market chart, the discovery page); nothing until the first count. */
export function Watching({ room }: { room: string }) {
  const { status, count } = usePresence(room);
  if (status !== 'live' || count === null) return null;
  return (
    <span
      className="presence-watching muted"
      data-testid="watching"
      data-count={count}
      title="People with this page open now, you included"
    >
      <span className="presence-dot presence-online" aria-hidden /> {count} watching
    </span>
  );
}
