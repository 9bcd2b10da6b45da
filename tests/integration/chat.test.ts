import { afterEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { chatParticipants, inboxEvents } from '../../server/db/schema';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { barrier, contents, converse, openTab, type Tab } from '../helpers/chat';
import { wsClient } from '../helpers/clients';
import { rejection } from '../helpers/errors';
import { skipResumePoint } from '../helpers/resume-point';

const app = await createTestApp();
const server = await startTestServer(app);

let tabs: Tab[] = [];
const tab = async (...args: Parameters<typeof openTab> extends [unknown, unknown, ...infer R] ? R : never) => {
  const t = await openTab(app, server, ...args);
  tabs.push(t);
  return t;
};
afterEach(async () => {
  await Promise.all(tabs.map((t) => t.close()));
  tabs = [];
  // The next test counts subscriptions to know when its own have started.
  await expect.poll(() => app.stats.subscriptionsByPath()['chat.events'] ?? 0).toBe(0);
});

/** A and B talk; B's tab saw one message, then closed: B's last event id. */
async function bWentOffline() {
  const [a, b] = await Promise.all([signUp(app), signUp(app)]);
  const ab = await converse(a, b);
  const online = await tab(b);
  await barrier(a, ab, [online], 'before');
  const lastEventId = online.lastEventId()!;
  await online.close();
  return { a, b, ab, lastEventId };
}

describe('chat delivery', () => {
  it("delivers a message once to each of B's tabs and A's other tab, and nothing to C", async () => {
    const [a, b, c, d] = await Promise.all([
      signUp(app, { name: 'Ada' }),
      signUp(app, { name: 'Bob' }),
      signUp(app, { name: 'Cy' }),
      signUp(app, { name: 'Di' }),
    ]);
    const ab = await converse(a, b);
    const cd = await converse(c, d);
    const [b1, b2, a2, c1] = [await tab(b), await tab(b), await tab(a), await tab(c)];

    const { message } = await a.caller.chat.send({ conversationId: ab, content: 'hello Bob' });
    const last = await barrier(a, ab, [b1, b2, a2]);
    for (const t of [b1, b2, a2]) expect(contents(t)).toEqual(['hello Bob', last]);
    expect(b1.stored[0]!.data).toEqual({ type: 'new_message', conversationId: ab, message });

    await barrier(d, cd, [c1]);
    expect(c1.stored.map((e) => e.data.type)).toEqual(['new_message']);
    expect(contents(c1)).not.toContain('hello Bob');
    expect((await rejection(c.caller.chat.messages({ conversationId: ab }))).code).toBe('NOT_FOUND');
    expect([b1, b2, a2, c1].flatMap((t) => t.errors)).toEqual([]);
  });

  it('replays what B missed while offline — five messages and an invitation — in order, once', async () => {
    const { a, b, ab, lastEventId } = await bWentOffline();

    for (let i = 1; i <= 5; i++) await a.caller.chat.send({ conversationId: ab, content: `missed ${i}` });
    // A and B talk already: the invitation comes from someone new.
    const c = await signUp(app);
    const { invitationId } = await c.caller.chat.invite({ toUserId: b.user.id, message: 'another topic?' });

    const back = await tab(b, lastEventId);
    await barrier(a, ab, [back], 'after');
    expect(back.stored.map((e) => e.data.type)).toEqual([
      ...Array(5).fill('new_message'),
      'new_invitation',
      'new_message',
    ]);
    expect(contents(back)).toEqual(['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'after']);
    const invitation = back.stored[5]!.data;
    expect(invitation).toMatchObject({
      type: 'new_invitation',
      invitation: { id: invitationId, message: 'another topic?', from: { id: c.user.id } },
    });
    const ids = back.stored.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBeGreaterThan(Number(lastEventId));
  });

  it('stores one message when the same clientId is sent twice, even at once', async () => {
    const [a, b] = await Promise.all([signUp(app), signUp(app)]);
    const ab = await converse(a, b);
    const bTab = await tab(b);
    const first = await a.caller.chat.send({ conversationId: ab, content: 'only once', clientId: 'retry-key-0001' });
    const again = await a.caller.chat.send({ conversationId: ab, content: 'only once', clientId: 'retry-key-0001' });
    expect(again.message).toEqual(first.message);
    const racing = await Promise.all(
      [1, 2, 3].map(() => a.caller.chat.send({ conversationId: ab, content: 'raced', clientId: 'retry-key-0002' })),
    );
    expect(new Set(racing.map((r) => r.message.id)).size).toBe(1);

    await barrier(a, ab, [bTab], 'end');
    expect(contents(bTab)).toEqual(['only once', 'raced', 'end']);
    const history = await b.caller.chat.messages({ conversationId: ab });
    expect(history.items.map((m) => m.content)).toEqual(['end', 'raced', 'only once']);
    // A key is the sender's: reusing it for another conversation is a mistake worth naming.
    const other = await converse(a, await signUp(app));
    const misuse = await rejection(
      a.caller.chat.send({ conversationId: other, content: 'x', clientId: 'retry-key-0001' }),
    );
    expect(misuse.code).toBe('BAD_REQUEST');
  });

  it('counts unread messages up as A sends, back to 0 when B reads, and tells A', async () => {
    const [a, b] = await Promise.all([signUp(app), signUp(app)]);
    const ab = await converse(a, b);
    const aTab = await tab(a);
    const unread = async () => (await b.caller.chat.conversations()).items.find((c) => c.id === ab)!.unreadCount;
    expect(await unread()).toBe(0);
    await a.caller.chat.send({ conversationId: ab, content: 'one' });
    expect(await unread()).toBe(1);
    const { message } = await a.caller.chat.send({ conversationId: ab, content: 'two' });
    expect(await unread()).toBe(2);
    // The sender's own messages are never unread for them.
    expect((await a.caller.chat.conversations()).items.find((c) => c.id === ab)!.unreadCount).toBe(0);

    expect(await b.caller.chat.markRead({ conversationId: ab, messageId: message.id })).toEqual({
      conversationId: ab,
      lastReadMessageId: message.id,
    });
    expect(await unread()).toBe(0);
    await expect.poll(() => aTab.stored.some((e) => e.data.type === 'read')).toBe(true);
    expect(aTab.stored.find((e) => e.data.type === 'read')!.data).toEqual({
      type: 'read',
      conversationId: ab,
      userId: b.user.id,
      messageId: message.id,
    });
    const listed = (await a.caller.chat.conversations()).items.find((c) => c.id === ab)!;
    expect(listed.participants.find((p) => p.id === b.user.id)!.lastReadMessageId).toBe(message.id);
    expect(listed.lastMessage).toMatchObject({ id: message.id, content: 'two' });
  });

  it('relays typing live to the other side only, throttled and never stored', async () => {
    const [a, b] = await Promise.all([signUp(app, { name: 'Typist' }), signUp(app)]);
    const ab = await converse(a, b);
    const [aTab, bTab] = [await tab(a), await tab(b)];
    // B's notification centre (every feature's stored events) must not see typing.
    const notified: string[] = [];
    const opened = () => app.stats.subscriptionsByPath()['system.notifications'] ?? 0;
    const sub = wsClient(server.url, b.token).client.system.notifications.subscribe(undefined, {
      onData: skipResumePoint((e) => void notified.push(e.data.type)),
    });
    await expect.poll(opened).toBe(1);
    expect(await a.caller.chat.typing({ conversationId: ab })).toEqual({ relayed: true });
    expect(await a.caller.chat.typing({ conversationId: ab })).toEqual({ relayed: false });
    await expect.poll(() => bTab.typing.length).toBe(1);
    expect(bTab.typing[0]).toEqual({ type: 'typing', conversationId: ab, userId: a.user.id, name: 'Typist' });
    await barrier(b, ab, [aTab, bTab]);
    expect(aTab.typing).toEqual([]);
    expect(bTab.typing).toHaveLength(1);
    await expect.poll(() => notified).toEqual(['new_message']);
    sub.unsubscribe();
    const rows = await app.db.select().from(inboxEvents).where(eq(inboxEvents.userId, b.user.id));
    expect(rows.map((r) => r.type)).not.toContain('typing');
  });

  it('checks each event on delivery: someone no longer in a conversation does not get its replay', async () => {
    const { a, b, ab, lastEventId } = await bWentOffline();
    // Addressed to B while B was a participant, then B is removed before reading it.
    await a.caller.chat.send({ conversationId: ab, content: 'after you left' });
    await app.db
      .delete(chatParticipants)
      .where(and(eq(chatParticipants.conversationId, ab), eq(chatParticipants.userId, b.user.id)));
    const { invitationId } = await a.caller.chat.invite({ toUserId: b.user.id });

    const back = await tab(b, lastEventId);
    await expect.poll(() => back.stored.length).toBe(1);
    expect(back.stored[0]!.data).toMatchObject({ type: 'new_invitation', invitation: { id: invitationId } });
    expect(contents(back)).toEqual([]);
  });
});
