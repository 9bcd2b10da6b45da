import { describe, expect, it } from 'vitest';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import type { Database } from '../../server/db/client';
import { startServer } from '../../server/http';
import { callerForToken, signUp } from '../helpers/app';
import { contents, converse, openTab } from '../helpers/chat';
import { clientError } from '../helpers/errors';
import { httpClient } from '../helpers/clients';
import { reopenableDatabase } from '../helpers/db';

async function boot(open: () => Promise<Database>) {
  const app = await createApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', UPSTREAMS: 'demo' }), {
    database: await open(),
  });
  const server = await startServer(app, { port: 0, host: '127.0.0.1' });
  return { app, server, stop: async () => (await server.close(), await app.close()) };
}

describe('chat across a server restart', () => {
  it('keeps conversations, history, unread counts and read markers, and resumes the stream', async () => {
    const open = await reopenableDatabase('chat');
    const first = await boot(open);
    const [ann, bob] = [await signUp(first.app, { name: 'Ann' }), await signUp(first.app, { name: 'Bob' })];
    const conversationId = await converse(ann, bob);
    const bobTab = await openTab(first.app, first.server, bob);
    const one = await ann.caller.chat.send({ conversationId, content: 'one' });
    await ann.caller.chat.send({ conversationId, content: 'two' });
    await bob.caller.chat.markRead({ conversationId, messageId: one.message.id });
    await expect.poll(() => contents(bobTab)).toEqual(['one', 'two']);
    const lastEventId = bobTab.lastEventId()!;
    await bobTab.close();
    // Sent after Bob's tab went away, just before the restart.
    await ann.caller.chat.send({ conversationId, content: 'three' });
    await first.stop();

    const second = await boot(open);
    try {
      const [annAgain, bobAgain] = [
        await callerForToken(second.app, ann.token),
        await callerForToken(second.app, bob.token),
      ];
      const [conversation] = (await bobAgain.chat.conversations()).items;
      expect(conversation).toMatchObject({ id: conversationId, unreadCount: 2, lastMessage: { content: 'three' } });
      expect(conversation!.participants.find((p) => p.name === 'Bob')!.lastReadMessageId).toBe(one.message.id);
      expect((await annAgain.chat.messages({ conversationId })).items.map((m) => m.content)).toEqual([
        'three',
        'two',
        'one',
      ]);

      const resumed = await openTab(second.app, second.server, { ...bob, caller: bobAgain }, lastEventId);
      await expect.poll(() => contents(resumed)).toEqual(['three']);
      await resumed.close();

      // Over the wire a bad message is one sentence a person can act on.
      const err = await clientError(
        httpClient(second.server.url, ann.token).chat.send.mutate({ conversationId, content: ' ' }),
      );
      expect(err.data?.code).toBe('BAD_REQUEST');
      expect(err.message).toBe('Write a message first: it is empty.');
    } finally {
      await second.stop();
    }
  }, 120_000);
});
