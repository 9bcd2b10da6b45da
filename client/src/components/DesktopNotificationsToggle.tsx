import { useDesktopNotifications } from '../desktop';

/**
 * Opt-in system notifications for what arrives while the tab is in the background; one choice
 * per browser, shared by the features that offer it (chat messages, market alerts).
 */
export function DesktopNotificationsToggle({ what }: { what: string }) {
  const { state, turnOn, turnOff } = useDesktopNotifications();
  if (state === 'unsupported') return null;
  return (
    <section className="card desktop-toggle" data-testid="desktop-notifications">
      <span>
        {state === 'on'
          ? 'Desktop notifications are on while this tab is in the background.'
          : state === 'blocked'
            ? 'Desktop notifications are blocked: allow them for this site in the browser settings.'
            : `Get a desktop notification when ${what} while this tab is in the background.`}
      </span>
      {state === 'on' ? (
        <button onClick={turnOff}>Turn off</button>
      ) : (
        state === 'off' && <button onClick={() => void turnOn()}>Turn on</button>
      )}
    </section>
  );
}
