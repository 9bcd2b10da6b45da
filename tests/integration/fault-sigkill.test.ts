import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { httpClient } from '../helpers/clients';
import { createTestDatabase } from '../helpers/db';
import { exited, startMain } from '../helpers/main-process';
import { waitFor } from '../helpers/wait';

// The real server process killed with SIGKILL in the middle of writes (cards added to a
// collection, chat messages, an import copying a whole collection), then started again on the
// same storage: every write it acknowledged is there, and nothing is half-written (a card
// counter that disagrees with the cards, a partial copy, a message missing from the list).

describe('SIGKILL in the middle of writes', () => {
  it('leaves no half-written state, and keeps everything it acknowledged', { timeout: 180_000 }, async () => {
    const database = process.env.DATABASE_URL ? await createTestDatabase() : null;
    if (database) onTestFinished(() => database.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'hubcast-kill-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = database?.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir };

    const first = await startMain(env);
    const anon = httpClient(first.url);
    const alice = await anon.auth.signUp.mutate({
      email: 'alice@example.com',
      password: 'killed mid-write',
      name: 'Alice',
    });
    const carol = await anon.auth.signUp.mutate({
      email: 'carol@example.com',
      password: 'killed mid-write',
      name: 'Carol',
    });
    const a = httpClient(first.url, alice.token);
    const c = httpClient(first.url, carol.token);
    const { invitationId } = await a.chat.invite.mutate({ toUserId: carol.user.id });
    const conversationId = (await c.chat.respond.mutate({ invitationId, action: 'accept' })).conversationId!;
    const collection = await a.collections.create.mutate({ title: 'Growing' });
    const source = await a.collections.create.mutate({ title: 'Source' });
    for (let i = 0; i < 40; i++) await a.collections.addCard.mutate({ collectionId: source.id, front: `source ${i}` });
    const { code } = await a.collections.createShareCode.mutate({ collectionId: source.id });

    const acknowledged = { cards: [] as string[], messages: [] as string[] };
    let running = true;
    const loop = async (write: (i: number) => Promise<unknown>, into: string[], label: string) => {
      for (let i = 0; running; i++) {
        await write(i).then(
          () => void into.push(`${label} ${i}`),
          () => undefined,
        );
      }
    };
    const writers = [
      loop(
        (i) => a.collections.addCard.mutate({ collectionId: collection.id, front: `card ${i}` }),
        acknowledged.cards,
        'card',
      ),
      loop((i) => c.chat.send.mutate({ conversationId, content: `message ${i}` }), acknowledged.messages, 'message'),
    ];
    // The import (a copy of 40 cards in one transaction) is in flight when the kill comes.
    const importing = c.collections.importByCode.mutate({ code }).catch(() => null);
    await waitFor(() => acknowledged.cards.length >= 10 && acknowledged.messages.length >= 10, {
      what: 'writes before the kill',
    });
    first.child.kill('SIGKILL');
    await exited(first.child);
    running = false;
    await Promise.all(writers);
    await importing;

    const second = await startMain(env);
    const a2 = httpClient(second.url, alice.token);
    const c2 = httpClient(second.url, carol.token);
    // Sessions survived, so these are the same people.
    expect(await a2.auth.me.query()).toMatchObject({ id: alice.user.id });

    const grown = await a2.collections.get.query({ id: collection.id });
    expect(grown.collection.cardCount).toBe(grown.cards.length);
    const fronts = grown.cards.map((card) => card.front);
    for (const card of acknowledged.cards) expect(fronts).toContain(card);

    const { items } = await c2.chat.messages.query({ conversationId, limit: 100 });
    const contents = items.map((m) => m.content);
    for (const m of acknowledged.messages) expect(contents).toContain(m);
    // The conversation list agrees with the messages: its last message is the newest one.
    const conversations = await c2.chat.conversations.query({});
    expect(conversations.items.find((x) => x.id === conversationId)?.lastMessage?.id).toBe(
      Math.max(...items.map((m) => m.id)),
    );

    // The import is all or nothing: either no copy, or a copy with all 40 cards.
    const copies = (await c2.collections.list.query({})).items;
    for (const copy of copies) {
      const full = await c2.collections.get.query({ id: copy.id });
      expect(full.cards).toHaveLength(40);
      expect(full.collection.cardCount).toBe(40);
    }
    // And the server still takes writes.
    await a2.collections.addCard.mutate({ collectionId: collection.id, front: 'after the restart' });
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });
});
