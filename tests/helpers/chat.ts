import { expect } from 'vitest';
import type { App } from '../../server/app';
import type { RunningServer } from '../../server/http';
import type { ChatEvent } from '../../shared/chat';
import type { Caller } from './app';
import { wsClient } from './clients';
import { skipResumePoint } from './resume-point';
import { waitFor } from './wait';

export interface Person {
  user: { id: string; name: string };
  token: string;
  caller: Caller;
}

/** A invites B and B accepts: the conversation both are in. */
export async function converse(a: Person, b: Person): Promise<number> {
  const { invitationId } = await a.caller.chat.invite({ toUserId: b.user.id });
  const { conversationId } = await b.caller.chat.respond({ invitationId, action: 'accept' });
  return conversationId!;
}

type StoredEvent = Exclude<ChatEvent, { type: 'typing' }>;

/** One browser tab's `chat.events`: its own WebSocket, everything it received in order. */
export interface Tab {
  stored: { id: string; data: StoredEvent }[];
  typing: Extract<ChatEvent, { type: 'typing' }>[];
  errors: unknown[];
  lastEventId: () => string | undefined;
  close: () => Promise<void>;
}

const open = (app: App) => app.stats.subscriptionsByPath()['chat.events'] ?? 0;

/**
 * Opens a tab and waits until the server has its subscription (so no live event can slip by
 * before it). Open tabs one after another: the wait counts open subscriptions.
 */
export async function openTab(app: App, server: RunningServer, person: Person, lastEventId?: string): Promise<Tab> {
  const { client, ws } = wsClient(server.url, person.token);
  const tab: Tab = {
    stored: [],
    typing: [],
    errors: [],
    lastEventId: () => tab.stored.at(-1)?.id ?? lastEventId,
    close: async () => {},
  };
  const before = open(app);
  const sub = client.chat.events.subscribe(lastEventId ? { lastEventId } : undefined, {
    onData: skipResumePoint((e) => void ('id' in e ? tab.stored.push(e) : tab.typing.push(e.data))),
    onError: (err) => void tab.errors.push(err),
  });
  await waitFor(() => open(app) > before, { what: 'the chat.events subscription to start' });
  let closed = false;
  tab.close = async () => {
    if (closed) return;
    closed = true;
    const openBefore = open(app);
    sub.unsubscribe();
    await ws.close();
    await waitFor(() => open(app) < openBefore, { what: 'the chat.events subscription to end' });
  };
  return tab;
}

/** Message contents a tab received, in order. */
export const contents = (tab: Tab) =>
  tab.stored.flatMap((e) => (e.data.type === 'new_message' ? [e.data.message.content] : []));

/**
 * Sends a last message and waits until every listed tab has it: whatever a tab was going to
 * receive before it has arrived by then, so "nothing else came" can be asserted without sleeping.
 */
export async function barrier(
  from: Person,
  conversationId: number,
  tabs: Tab[],
  content = `barrier-${Math.random().toString(36).slice(2)}`,
) {
  await from.caller.chat.send({ conversationId, content });
  for (const tab of tabs) await expect.poll(() => contents(tab).includes(content)).toBe(true);
  return content;
}
