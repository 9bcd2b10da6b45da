import type { App } from '../../server/app';
import type { InboxItem } from '../../server/realtime/inbox';

/** Stores and publishes inbox events on their own, through the one writer features use (Inbox.withEvents). */
export async function deliver(app: Pick<App, 'inbox'>, items: InboxItem[]) {
  const { events } = await app.inbox.withEvents(async (_tx, emit) => items.forEach(emit));
  return events;
}
