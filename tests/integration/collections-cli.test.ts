import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatShareCode } from '../../shared/collections';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { collectionWithCards } from '../helpers/collections';

const app = await createTestApp();
const server = await startTestServer(app);
const run = promisify(execFile);

/** The real CLI in its own process, signed in by token; execFile's timeout kills it whatever happens. */
async function cli(token: string, ...args: string[]) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', 'collections', ...args], {
    env: {
      ...process.env,
      HUBCAST_URL: server.url,
      HUBCAST_TOKEN: token,
      HUBCAST_CREDENTIALS: '/nonexistent/hubcast-credentials.json',
    },
    timeout: 25_000,
  });
  return stdout;
}

describe('npm run cli -- collections', () => {
  it('shares, imports and lists, as readable lines and as --json', async () => {
    const teacher = await signUp(app, { name: 'Teacher' });
    const student = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 2, 'Capitals');

    const shared = await cli(teacher.token, 'share', String(col.id), '--max-uses=5');
    const code = /Share code: ([2-9A-Z]{5}-[2-9A-Z]{5})/.exec(shared)?.[1];
    expect(code).toBeDefined();
    expect(shared).toContain(`${code}  active    0/5 uses, no expiry`);

    const imported = await cli(student.token, 'import', code!.toLowerCase());
    expect(imported.split('\n').slice(0, 4)).toEqual([
      'Imported "Capitals" (2 cards) from Teacher.',
      expect.stringMatching(/^#\d+\s+Capitals {2}\(2 cards, from Teacher\)$/),
      '  1. front 1 — back 1',
      '  2. front 2 — back 2',
    ]);

    const listed = JSON.parse(await cli(student.token, 'list', '--json')) as {
      title: string;
      source: { code: string };
    }[];
    expect(listed).toEqual([
      expect.objectContaining({ title: 'Capitals', source: expect.objectContaining({ code: code!.replace('-', '') }) }),
    ]);
    expect(formatShareCode(listed[0]!.source.code)).toBe(code);
  });
});
