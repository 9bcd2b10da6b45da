import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inboxEvents } from '../../server/db/schema';
import { MESSAGE_MAX } from '../../shared/chat';
import { createTestApp } from '../helpers/app';
import { converse } from '../helpers/chat';
import { rejection } from '../helpers/errors';
import { quickUsers } from '../helpers/market';

const app = await createTestApp();

describe('chat messages', () => {
  it('explains bad content: empty, blank, too long, control characters', async () => {
    const [ann, bob] = await quickUsers(app, 2);
    const conversationId = await converse(ann!, bob!);
    // createCaller carries zod's issue list as the message; over the wire it is the sentence alone.
    const refused = async (content: string, sentence: string) => {
      const err = await rejection(ann!.caller.chat.send({ conversationId, content }));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toContain(sentence);
    };
    await refused('', 'Write a message first: it is empty.');
    await refused('   \n ', 'Write a message first: it is empty.');
    await refused('x'.repeat(MESSAGE_MAX + 1), `Messages are at most ${MESSAGE_MAX} characters.`);
    await refused('nul\u0000byte', 'Messages cannot contain control characters.');
    const ok = await ann!.caller.chat.send({ conversationId, content: `  ${'y'.repeat(MESSAGE_MAX)}  ` });
    expect(ok.message.content).toHaveLength(MESSAGE_MAX);
    const clientId = await rejection(
      ann!.caller.chat.send({ conversationId, content: 'hi', clientId: 'no spaces allowed' }),
    );
    expect(clientId.message).toContain('client id is 8 to 64 letters');
  });

  it('pages history newest first with a cursor', async () => {
    const [ann, bob] = await quickUsers(app, 2);
    const conversationId = await converse(ann!, bob!);
    for (let i = 1; i <= 25; i++) await app.chat.send(ann!.user, { conversationId, content: `m${i}` });
    const first = await bob!.caller.chat.messages({ conversationId, limit: 10 });
    expect(first.items.map((m) => m.content)).toEqual([
      'm25',
      'm24',
      'm23',
      'm22',
      'm21',
      'm20',
      'm19',
      'm18',
      'm17',
      'm16',
    ]);
    const second = await bob!.caller.chat.messages({ conversationId, limit: 10, cursor: first.nextCursor });
    const third = await bob!.caller.chat.messages({ conversationId, limit: 10, cursor: second.nextCursor });
    expect(third.items.map((m) => m.content)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
    expect(third.nextCursor).toBeNull();
    expect((await rejection(bob!.caller.chat.messages({ conversationId, limit: 500 }))).message).toContain(
      'The page size is at most 100.',
    );
  });

  it('lists conversations by latest activity, paged', async () => {
    const [ann, ...others] = await quickUsers(app, 4);
    const ids = [];
    for (const o of others) ids.push(await converse(ann!, o));
    await app.chat.send(others[0]!.user, { conversationId: ids[0]!, content: 'bump' });
    const first = await ann!.caller.chat.conversations({ limit: 2 });
    const second = await ann!.caller.chat.conversations({ limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((c) => c.id)).toEqual([ids[0], ids[2], ids[1]]);
    expect(second.nextCursor).toBeNull();
    expect(first.items[0]).toMatchObject({ unreadCount: 1, lastMessage: { content: 'bump' } });
    expect((await rejection(ann!.caller.chat.conversations({ cursor: 'page 2' }))).code).toBe('BAD_REQUEST');
  });

  it('limits sending per person with TOO_MANY_REQUESTS', async () => {
    const [ann, bob] = await quickUsers(app, 2);
    const conversationId = await converse(ann!, bob!);
    const answers = [];
    for (let i = 0; i < 31; i++)
      answers.push(
        await ann!.caller.chat.send({ conversationId, content: `#${i}` }).then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        ),
      );
    expect(answers.slice(0, 30)).toEqual(Array(30).fill('ok'));
    expect(answers[30]).toBe('TOO_MANY_REQUESTS');
    // Someone else in the same conversation is not slowed down by it.
    await bob!.caller.chat.send({ conversationId, content: 'still fine' });
  });

  it('sends arriving together are written together, each with its own answer: stored in order, a clientId once, refusals their own', async () => {
    const [ann, bob, cid] = await quickUsers(app, 3);
    const ab = await converse(ann!, bob!);
    const bc = await converse(bob!, cid!);
    // Not awaited one by one: they queue while the first transaction runs and share the next.
    const answers = await Promise.allSettled([
      ann!.caller.chat.send({ conversationId: ab, content: 'one', clientId: 'same-client-id' }),
      ann!.caller.chat.send({ conversationId: ab, content: 'one again', clientId: 'same-client-id' }),
      bob!.caller.chat.send({ conversationId: ab, content: 'two' }),
      ann!.caller.chat.send({ conversationId: bc, content: 'not hers' }),
      cid!.caller.chat.send({ conversationId: bc, content: 'three' }),
      ann!.caller.chat.send({ conversationId: ab, content: 'four' }),
    ]);
    const [first, retry, two, notHers, three, four] = answers;
    expect(first.status === 'fulfilled' && retry.status === 'fulfilled').toBe(true);
    if (first.status !== 'fulfilled' || retry.status !== 'fulfilled') return;
    // The retry answers with the stored message, not its own content.
    expect(retry.value.message).toEqual(first.value.message);
    expect(two.status).toBe('fulfilled');
    expect(three.status).toBe('fulfilled');
    expect(four.status).toBe('fulfilled');
    expect(notHers.status === 'rejected' && (notHers.reason as { code?: string }).code).toBe('NOT_FOUND');
    const history = await bob!.caller.chat.messages({ conversationId: ab, limit: 10 });
    expect(history.items.map((m) => m.content).reverse()).toEqual(['one', 'two', 'four']);
    // One new_message per stored message in each participant's inbox: the retry announced nothing.
    const inbox = await app.db
      .select({ payload: inboxEvents.payload })
      .from(inboxEvents)
      .where(and(eq(inboxEvents.userId, bob!.user.id), eq(inboxEvents.type, 'new_message')));
    const announced = inbox.map((r) => (r.payload as { message: { content: string } }).message.content);
    expect(announced.filter((c) => c === 'one')).toHaveLength(1);
    expect(announced).toEqual(expect.arrayContaining(['one', 'two', 'three', 'four']));
    expect(announced).not.toContain('not hers');
  });

  it('a read marker never moves back, and only to a message of that conversation', async () => {
    const [ann, bob] = await quickUsers(app, 2);
    const conversationId = await converse(ann!, bob!);
    const one = await app.chat.send(ann!.user, { conversationId, content: 'one' });
    const two = await app.chat.send(ann!.user, { conversationId, content: 'two' });
    await bob!.caller.chat.markRead({ conversationId, messageId: two.message.id });
    expect(await bob!.caller.chat.markRead({ conversationId, messageId: one.message.id })).toEqual({
      conversationId,
      lastReadMessageId: two.message.id,
    });
    expect(
      (await rejection(bob!.caller.chat.markRead({ conversationId, messageId: two.message.id + 1000 }))).code,
    ).toBe('NOT_FOUND');
  });
});
