import { describe, expect, it } from 'vitest';
import { CURSOR_MESSAGE } from '../../shared/cursor';
import { createTestApp, startTestServer, uniqueEmail } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { clientError } from '../helpers/errors';

// Page links come from clients: every part of every cursor is bounded before it reaches a
// query. A timestamp past year 9999 used to reach Postgres and answer 500 (22009).

const app = await createTestApp();
const server = await startTestServer(app);
const { token } = await httpClient(server.url).auth.signUp.mutate({
  email: uniqueEmail('cursor'),
  password: 'long enough password',
  name: 'Cursor Tester',
});
const client = httpClient(server.url, token);

const POSITIONS = [
  '253402300800000:1',
  '999999999999999:1',
  '1700000000000:0',
  '1700000000000:9007199254740993',
  '1:99999999999999999999',
  `1:${'1'.repeat(40)}`,
];
const IDS = [0, 2 ** 53, 2 ** 63, 1.5, -1];

describe('cursors out of range', () => {
  it('chat.conversations refuses a position past year 9999 or an id out of range, in words', async () => {
    for (const cursor of POSITIONS) {
      const err = await clientError(client.chat.conversations.query({ cursor }));
      expect(err.data?.code, cursor).toBe('BAD_REQUEST');
      expect(err.message, cursor).toContain(CURSOR_MESSAGE);
    }
    // A real last instant of 9999 is still a page (empty here), not an error.
    expect((await client.chat.conversations.query({ cursor: '253402300799999:1' })).items).toEqual([]);
  });

  it('collections.get refuses a card position past its integer column or an id out of range, with the same sentence', async () => {
    const { id } = await client.collections.create.mutate({ title: 'Paged' });
    for (const cursor of [
      '2147483648:1',
      '99999999999:1',
      '1:0',
      '1:9007199254740993',
      '253402300800000:1',
      '-1:1',
      ':',
      '1:',
    ]) {
      const err = await clientError(client.collections.get.query({ id, cursor }));
      expect(err.data?.code, cursor).toBe('BAD_REQUEST');
      expect(err.message, cursor).toContain(CURSOR_MESSAGE);
    }
    // The last position the column holds is still a page (empty here), not an error.
    expect((await client.collections.get.query({ id, cursor: '2147483647:1' })).cards).toEqual([]);
  });

  it('every id cursor refuses ids outside the id range with the same sentence', async () => {
    const calls = [
      (cursor: number) => client.chat.messages.query({ conversationId: 1, cursor }),
      (cursor: number) => client.chat.invitations.query({ cursor }),
      (cursor: number) => client.market.trades.query({ cursor }),
      (cursor: number) => client.market.strategies.list.query({ cursor }),
      (cursor: number) => client.collections.list.query({ cursor }),
    ];
    for (const call of calls)
      for (const cursor of IDS) {
        const err = await clientError(call(cursor));
        expect(err.data?.code, String(cursor)).toBe('BAD_REQUEST');
        expect(err.message, String(cursor)).toContain(CURSOR_MESSAGE);
      }
  });
});
