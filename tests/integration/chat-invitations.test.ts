import { afterEach, describe, expect, it } from 'vitest';
import { PENDING_INVITATIONS_MAX } from '../../shared/chat';
import { anonymousCaller, createTestApp, signUp, startTestServer } from '../helpers/app';
import { openTab, type Tab } from '../helpers/chat';
import { rejection } from '../helpers/errors';
import { quickUsers } from '../helpers/market';

const app = await createTestApp();
const server = await startTestServer(app);

let tabs: Tab[] = [];
afterEach(async () => {
  for (const t of tabs) await t.close();
  tabs = [];
});

describe('chat invitations', () => {
  it('accept: the inviter hears of it live with the new conversation, which both are in', async () => {
    const [ann, bob] = await Promise.all([signUp(app, { name: 'Ann' }), signUp(app, { name: 'Bob' })]);
    const bobTab = await openTab(app, server, bob);
    const annTab = await openTab(app, server, ann);
    tabs.push(bobTab, annTab);
    const { invitationId } = await ann.caller.chat.invite({
      toUserId: bob.user.id,
      message: 'Talk about the release?',
    });
    await expect.poll(() => bobTab.stored.length).toBe(1);
    expect(bobTab.stored[0]!.data).toMatchObject({
      type: 'new_invitation',
      message: 'Ann invited you to chat.',
      invitation: {
        id: invitationId,
        from: { id: ann.user.id, name: 'Ann' },
        to: { id: bob.user.id, name: 'Bob' },
        message: 'Talk about the release?',
        status: 'pending',
      },
    });
    expect((await bob.caller.chat.invitations({ direction: 'incoming' })).items.map((i) => i.id)).toEqual([
      invitationId,
    ]);
    expect((await ann.caller.chat.invitations({ direction: 'outgoing' })).items.map((i) => i.id)).toEqual([
      invitationId,
    ]);

    const { conversationId } = await bob.caller.chat.respond({ invitationId, action: 'accept' });
    await expect.poll(() => annTab.stored.length).toBe(1);
    expect(annTab.stored[0]!.data).toMatchObject({
      type: 'invitation_accepted',
      conversationId,
      invitation: { id: invitationId, status: 'accepted', conversationId },
    });
    for (const who of [ann, bob]) {
      const [conversation] = (await who.caller.chat.conversations()).items;
      expect(conversation!.id).toBe(conversationId);
      expect(conversation!.participants.map((p) => p.name).sort()).toEqual(['Ann', 'Bob']);
    }
    expect((await bob.caller.chat.invitations()).items).toEqual([]);
    // Answered once: a second answer, from another tab, changes nothing.
    expect((await rejection(bob.caller.chat.respond({ invitationId, action: 'reject' }))).code).toBe('CONFLICT');
    // They talk already: a second invitation, either way, is refused in words, and nothing is stored.
    for (const [from, to] of [
      [bob, ann],
      [ann, bob],
    ] as const) {
      const refused = await rejection(from.caller.chat.invite({ toUserId: to.user.id }));
      expect(refused.code).toBe('CONFLICT');
      expect(refused.message).toBe(
        `You already have a conversation with ${to.user.name}: open it from your conversation list.`,
      );
    }
    expect((await ann.caller.chat.invitations()).items).toEqual([]);
  });

  it("relations: the conversation or pending invitation the caller has with each person, and nobody else's", async () => {
    const [ann, bob, cat, dan] = await Promise.all([signUp(app), signUp(app), signUp(app), signUp(app)]);
    const withBob = (
      await ann.caller.chat.respond({
        invitationId: (await bob.caller.chat.invite({ toUserId: ann.user.id })).invitationId,
        action: 'accept',
      })
    ).conversationId!;
    const toCat = await ann.caller.chat.invite({ toUserId: cat.user.id });
    const fromDan = await dan.caller.chat.invite({ toUserId: ann.user.id });
    // Bob and Cat's own invitation is not Ann's business.
    await bob.caller.chat.invite({ toUserId: cat.user.id });
    const ids = [bob, cat, dan].map((p) => p.user.id);
    expect((await ann.caller.chat.relations({ userIds: [...ids, ann.user.id] })).items).toEqual([
      { userId: bob.user.id, conversationId: withBob, pendingInvitation: null },
      {
        userId: cat.user.id,
        conversationId: null,
        pendingInvitation: { id: toCat.invitationId, direction: 'outgoing' },
      },
      {
        userId: dan.user.id,
        conversationId: null,
        pendingInvitation: { id: fromDan.invitationId, direction: 'incoming' },
      },
    ]);
    expect((await cat.caller.chat.relations({ userIds: [dan.user.id] })).items).toEqual([
      { userId: dan.user.id, conversationId: null, pendingInvitation: null },
    ]);
  });

  it('reject: the inviter gets invitation_rejected and no conversation exists', async () => {
    const [ann, bob] = await Promise.all([signUp(app), signUp(app, { name: 'Bob' })]);
    const annTab = await openTab(app, server, ann);
    tabs.push(annTab);
    const { invitationId } = await ann.caller.chat.invite({ toUserId: bob.user.id });
    expect(await bob.caller.chat.respond({ invitationId, action: 'reject' })).toEqual({});
    await expect.poll(() => annTab.stored.length).toBe(1);
    expect(annTab.stored[0]!.data).toMatchObject({
      type: 'invitation_rejected',
      message: 'Bob declined your chat invitation.',
      invitation: { id: invitationId, status: 'rejected' },
    });
    expect((await ann.caller.chat.conversations()).items).toEqual([]);
  });

  it('refuses inviting yourself, a second pending invitation either way, and answers by the inviter', async () => {
    const [ann, bob] = await Promise.all([signUp(app), signUp(app)]);
    const self = await rejection(ann.caller.chat.invite({ toUserId: ann.user.id }));
    expect(self).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'You cannot invite yourself: search for someone else.',
    });
    const { invitationId } = await ann.caller.chat.invite({ toUserId: bob.user.id });
    expect((await rejection(ann.caller.chat.invite({ toUserId: bob.user.id }))).code).toBe('CONFLICT');
    expect((await rejection(bob.caller.chat.invite({ toUserId: ann.user.id }))).code).toBe('CONFLICT');
    const byInviter = await rejection(ann.caller.chat.respond({ invitationId, action: 'accept' }));
    expect(byInviter).toMatchObject({
      code: 'FORBIDDEN',
      message: 'Only the person you invited can answer this invitation.',
    });
  });

  it(`caps pending invitations at ${PENDING_INVITATIONS_MAX} per person, and pages the list`, async () => {
    const [ann] = await quickUsers(app, 1);
    const people = await quickUsers(app, PENDING_INVITATIONS_MAX + 1);
    // The invite limiter allows 10 a minute per person: this test is about the pending cap, so
    // it writes through the service the router calls.
    for (const p of people.slice(0, PENDING_INVITATIONS_MAX)) await app.chat.invite(ann!.user, { toUserId: p.user.id });
    const over = await rejection(ann!.caller.chat.invite({ toUserId: people.at(-1)!.user.id }));
    expect(over.code).toBe('BAD_REQUEST');
    expect(over.message).toContain(`${PENDING_INVITATIONS_MAX} invitations waiting`);

    const first = await ann!.caller.chat.invitations({ direction: 'outgoing', limit: 15 });
    expect(first.items).toHaveLength(15);
    const second = await ann!.caller.chat.invitations({ direction: 'outgoing', limit: 15, cursor: first.nextCursor });
    expect(second.items).toHaveLength(PENDING_INVITATIONS_MAX - 15);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items].map((i) => i.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
  });

  it('limits invitations per minute with TOO_MANY_REQUESTS', async () => {
    const [ann, ...people] = await quickUsers(app, 12);
    const answers = [];
    for (const p of people)
      answers.push(
        await ann!.caller.chat.invite({ toUserId: p.user.id }).then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        ),
      );
    expect(answers.slice(0, 10)).toEqual(Array(10).fill('ok'));
    expect(answers[10]).toBe('TOO_MANY_REQUESTS');
  });

  it('needs a session', async () => {
    expect((await rejection(anonymousCaller(app).chat.invitations())).code).toBe('UNAUTHORIZED');
    expect((await rejection(anonymousCaller(app).chat.invite({ toUserId: 'x' }))).code).toBe('UNAUTHORIZED');
  });
});
