import { toast } from 'sonner';
import { useConnectionStatus } from '../../components/ConnectionIndicator';
import { outbox, type OutboxEntry } from './outbox';

const act = (done: Promise<void>) =>
  void done.catch((err: unknown) =>
    toast.error(`This browser's outbox failed: ${err instanceof Error ? err.message : String(err)}`),
  );

/** A message of ours the server has not stored yet: waiting for the connection, or refused and why. */
export function PendingMessage({ entry }: { entry: OutboxEntry }) {
  const { status } = useConnectionStatus();
  return (
    <div
      className={`chat-message mine pending ${entry.error ? 'failed' : ''}`}
      data-testid="chat-pending"
      data-state={entry.error ? 'failed' : 'pending'}
    >
      <p>{entry.content}</p>
      <span className="chat-meta">
        {entry.error ? (
          <>
            Not sent: {entry.error}{' '}
            <button className="link" onClick={() => act(outbox.retry(entry.clientId))}>
              Retry
            </button>{' '}
            ·{' '}
            <button className="link" onClick={() => act(outbox.discard(entry.clientId))}>
              Discard
            </button>
          </>
        ) : status === 'connected' ? (
          'Pending: sending…'
        ) : (
          'Pending: it is sent when the connection is back'
        )}
      </span>
    </div>
  );
}
