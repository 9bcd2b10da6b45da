import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { barrier, converse, openTab, type Person, type Tab } from '../helpers/chat';
import { rejection } from '../helpers/errors';

const app = await createTestApp();
const server = await startTestServer(app);

/**
 * A and B talk; C, signed in, tries every chat procedure on their rows. Each attempt is
 * NOT_FOUND (or simply absent from C's lists), and neither A nor B receives anything from it.
 */
describe("chat isolation: someone else's conversation does not exist for you", () => {
  let a: Person, b: Person, c: Person, other: Person;
  let ab: number, cd: number, pendingAB: number, messageId: number;
  let aTab: Tab, bTab: Tab, otherTab: Tab;
  beforeAll(async () => {
    [a, b, c, other] = await Promise.all([
      signUp(app, { name: 'Ann' }),
      signUp(app, { name: 'Ben' }),
      signUp(app, { name: 'Cal' }),
      signUp(app),
    ]);
    ab = await converse(a, b);
    messageId = (await a.caller.chat.send({ conversationId: ab, content: 'between us' })).message.id;
    pendingAB = (await a.caller.chat.invite({ toUserId: other.user.id, message: 'private note' })).invitationId;
    cd = await converse(c, await signUp(app));
    await c.caller.chat.send({ conversationId: cd, content: 'mine' });
    aTab = await openTab(app, server, a);
    bTab = await openTab(app, server, b);
    otherTab = await openTab(app, server, other);
  });
  afterAll(async () => {
    for (const t of [aTab, bTab, otherTab]) await t?.close();
  });

  const notFound = async (p: Promise<unknown>) => expect((await rejection(p)).code).toBe('NOT_FOUND');

  it('messages', () => notFound(c.caller.chat.messages({ conversationId: ab })));
  it('send', () => notFound(c.caller.chat.send({ conversationId: ab, content: 'let me in' })));
  it('send with a clientId', () =>
    notFound(c.caller.chat.send({ conversationId: ab, content: 'x', clientId: 'isolation-key-1' })));
  it('markRead', () => notFound(c.caller.chat.markRead({ conversationId: ab, messageId: messageId })));
  it('markRead of their message through my own conversation', () =>
    notFound(c.caller.chat.markRead({ conversationId: cd, messageId: messageId })));
  it('typing', () => notFound(c.caller.chat.typing({ conversationId: ab })));
  it('respond to an invitation addressed to someone else', async () => {
    await notFound(c.caller.chat.respond({ invitationId: pendingAB, action: 'accept' }));
    expect((await other.caller.chat.invitations({ direction: 'incoming' })).items.map((i) => i.id)).toContain(
      pendingAB,
    );
  });
  it('invite someone who does not exist', () => notFound(c.caller.chat.invite({ toUserId: 'no-such-user' })));
  it('conversations lists only mine', async () => {
    const ids = (await c.caller.chat.conversations()).items.map((x) => x.id);
    expect(ids).toEqual([cd]);
  });
  it('invitations lists only mine', async () => {
    for (const direction of ['incoming', 'outgoing', undefined] as const) {
      expect((await c.caller.chat.invitations({ direction })).items.map((i) => i.id)).not.toContain(pendingAB);
    }
  });
  it('events replays nothing of theirs, even from the start', async () => {
    const cTab = await openTab(app, server, c, '0');
    await barrier(c, cd, [cTab], 'mine again');
    expect(cTab.stored.map((e) => (e.data.type === 'new_message' ? e.data.message.content : e.data.type))).toEqual([
      'invitation_accepted',
      'mine',
      'mine again',
    ]);
    await cTab.close();
  });
  it('and A, B and the invitee received nothing from any of it', async () => {
    await barrier(a, ab, [aTab, bTab], 'still private');
    expect(aTab.stored.map((e) => e.data.type)).toEqual(['new_message']);
    expect(bTab.stored.map((e) => e.data.type)).toEqual(['new_message']);
    expect([...aTab.typing, ...bTab.typing]).toEqual([]);
    // The invitee's barrier: a fresh invitation from someone else, the only thing it may get.
    const { invitationId } = await (await signUp(app)).caller.chat.invite({ toUserId: other.user.id });
    await expect.poll(() => otherTab.stored.length).toBe(1);
    expect(otherTab.stored[0]!.data).toMatchObject({ type: 'new_invitation', invitation: { id: invitationId } });
  });
});
