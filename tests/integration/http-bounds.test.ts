import { connect } from 'node:net';
import { eq } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { collectionCards, collections } from '../../server/db/schema';
import { CARDS_PAGE_MAX, COLLECTION_LIMITS } from '../../shared/collections';
import { CURSOR_MESSAGE } from '../../shared/cursor';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { capturedLog } from '../helpers/log';
import { waitFor } from '../helpers/wait';

// Issue 18 §3: one HTTP batch of 50 collections.get on a 500-card collection answered 108 MiB,
// stalled /healthz, and clients that never read pinned the answer in memory.
const BOUND = 8 * 1024 * 1024;
const captured = capturedLog('warn');
const app = await createTestApp({ HTTP_WRITE_TIMEOUT_MS: '2000' }, { log: captured.log });
const server = await startTestServer(app);

/** A full collection of big cards, written through the table: 500 addCard calls would only test patience. */
async function fullCollection(caller: Awaited<ReturnType<typeof signUp>>['caller'], userId: string) {
  const col = await caller.collections.create({ title: 'Big' });
  const n = COLLECTION_LIMITS.cardsPerCollection;
  await app.db.insert(collectionCards).values(
    Array.from({ length: n }, (_, i) => ({
      userId,
      collectionId: col.id,
      position: i,
      front: `${i} ${'f'.repeat(1990)}`,
      back: 'b'.repeat(2000),
    })),
  );
  await app.db.update(collections).set({ cardCount: n }).where(eq(collections.id, col.id));
  return col;
}

const batchUrl = (path: string, inputs: unknown[]) =>
  `/trpc/${inputs.map(() => path).join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(Object.fromEntries(inputs.map((json, i) => [i, { json }]))))}`;

const owner = await signUp(app);
const big = await fullCollection(owner.caller, owner.user.id);

describe('HTTP answers are bounded', () => {
  it('a batch of 50 collections.get on a 500-card collection answers a whole body within the bound, and /healthz keeps answering meanwhile', async () => {
    const url =
      server.url +
      batchUrl(
        'collections.get',
        Array.from({ length: 50 }, () => ({ id: big.id })),
      );
    const healthz: number[] = [];
    let done = false;
    const answer = fetch(url, { headers: { Authorization: `Bearer ${owner.token}` } }).then(async (res) => {
      const body = Buffer.from(await res.arrayBuffer());
      done = true;
      return { status: res.status, body };
    });
    // A bystander, one request after another, for as long as the batch runs: it must keep being answered.
    while (!done) {
      const res = await fetch(`${server.url}/healthz`);
      if (!done) healthz.push(res.status);
    }
    const { status, body } = await answer;
    expect(body.length).toBeLessThanOrEqual(BOUND + 64 * 1024);
    // Never a partial body: it parses, and every call has either its page or a readable refusal.
    const items = JSON.parse(body.toString('utf8')) as {
      result?: { data: { json: { cards: unknown[]; nextCursor: string } } };
      error?: { json: { message: string; data: { code: string } } };
    }[];
    expect(items).toHaveLength(50);
    const served = items.filter((i) => i.result);
    const refused = items.filter((i) => i.error);
    expect(served.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(status).toBe(207);
    for (const s of served) expect(s.result!.data.json.cards).toHaveLength(CARDS_PAGE_MAX);
    for (const r of refused) {
      expect(r.error!.json.data.code).toBe('PAYLOAD_TOO_LARGE');
      expect(r.error!.json.message).toBe(
        'This answer is larger than 8 MB: ask for fewer items or a smaller page, or send fewer calls in one batch.',
      );
    }
    expect(healthz.every((s) => s === 200)).toBe(true);
  });

  it('pages every card once, in order, at most 100 a page', async () => {
    const client = httpClient(server.url, owner.token);
    const fronts: string[] = [];
    let pages = 0;
    for (let cursor: string | null = null; ; pages++) {
      const page: { cards: { front: string }[]; nextCursor: string | null } = await client.collections.get.query({
        id: big.id,
        cursor,
        limit: 100,
      });
      expect(page.cards.length).toBeLessThanOrEqual(CARDS_PAGE_MAX);
      fronts.push(...page.cards.map((c) => c.front.split(' ')[0]!));
      if ((cursor = page.nextCursor) === null) break;
    }
    expect(pages).toBe(4);
    expect(fronts).toEqual(Array.from({ length: COLLECTION_LIMITS.cardsPerCollection }, (_, i) => String(i)));
    await expect(client.collections.get.query({ id: big.id, limit: 101 })).rejects.toThrow(
      'The page size is at most 100.',
    );
    await expect(client.collections.get.query({ id: big.id, cursor: '99999999999:1' })).rejects.toThrow(CURSOR_MESSAGE);
  });

  it('cuts a client that sends a request and never reads the answer', async () => {
    const path = batchUrl(
      'collections.get',
      Array.from({ length: 20 }, () => ({ id: big.id })),
    );
    const socket = connect(server.port, '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.pause(); // never reads a byte
    // Pipelined answers of 8 MB each: more than the kernel's socket buffers (tens of MB on loopback) hold, so the server's own memory would keep the rest.
    for (let i = 0; i < 8; i++)
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${owner.token}\r\n\r\n`);
    await waitFor(() => captured.text().includes('HTTP client stopped reading its answer: disconnected'), {
      what: 'the server to cut the client that does not read',
      timeoutMs: 30_000,
    });
    // The connection is gone: once the client reads again it finds the end, far short of eight answers.
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.resume();
    await waitFor(() => closed, { what: 'the client to see its connection closed' });
    expect(received).toBeLessThan(8 * BOUND);
  });
});

describe('a small HTTP_MAX_RESPONSE_BYTES', () => {
  it('answers PAYLOAD_TOO_LARGE with the bound in words, never a cut-off body', async () => {
    const small = await createTestApp({ HTTP_MAX_RESPONSE_BYTES: String(64 * 1024) });
    const smallServer = await startTestServer(small);
    const someone = await signUp(small);
    const col = await someone.caller.collections.create({ title: 'Long cards' });
    for (let i = 0; i < 20; i++)
      await someone.caller.collections.addCard({
        collectionId: col.id,
        front: 'x'.repeat(2000),
        back: 'y'.repeat(2000),
      });
    const res = await fetch(smallServer.url + batchUrl('collections.get', [{ id: col.id }]), {
      headers: { Authorization: `Bearer ${someone.token}` },
    });
    expect(res.status).toBe(413);
    const [item] = (await res.json()) as { error: { json: { message: string; data: { code: string } } } }[];
    expect(item!.error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(item!.error.json.message).toBe(
      'This answer is larger than 64 KB: ask for fewer items or a smaller page, or send fewer calls in one batch.',
    );
    // A smaller page fits.
    const page = await httpClient(smallServer.url, someone.token).collections.get.query({ id: col.id, limit: 5 });
    expect(page.cards).toHaveLength(5);
  });
});
