import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The import boundaries of docs/architecture.md live in eslint.config.js. A glob that stops
// matching (a folder renamed, a pattern mistyped) would let every import through in silence, so
// each rule is run here on a snippet that breaks it, beside snippets that must stay allowed. The
// paths need not exist: ESLint picks the rules by the path alone.
const eslint = new ESLint({ cwd: fileURLToPath(new URL('../..', import.meta.url)) });

async function lint(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages;
}

const trpc = "import { TRPCError } from '@trpc/server';\nexport const e = TRPCError;\n";
const trpcDeep =
  "import type { AnyRouter } from '@trpc/server/unstable-core-do-not-import';\nexport type R = AnyRouter;\n";

describe('boundary rules', () => {
  it.each([
    ['a feature service imports @trpc/server', 'server/modules/chat/service.ts', trpc, 'AppError'],
    ['a feature file imports a @trpc/server subpath', 'server/modules/market/strategies.ts', trpcDeep, 'AppError'],
    ['a nested feature file imports @trpc/server', 'server/modules/vault/providers/vinted.ts', trpc, 'AppError'],
    ['auth below its router imports @trpc/server', 'server/modules/auth/service.ts', trpc, 'AppError'],
    [
      'a feature service imports transport/',
      'server/modules/market/service.ts',
      "import { fanoutHandover } from '../../transport/claims';\nexport const f = fanoutHandover;\n",
      'server/realtime/',
    ],
    [
      'a feature router imports transport/',
      'server/modules/chat/router.ts',
      "import { fanout } from '../../transport/fanout';\nexport const f = fanout;\n",
      'server/realtime/',
    ],
    [
      'cluster/ imports a feature',
      'server/cluster/market-feed.ts',
      "import { BinanceFeed } from '../modules/market/binance-feed';\nexport const f = BinanceFeed;\n",
      'server/modules/<feature>/',
    ],
    [
      'realtime/ imports a feature',
      'server/realtime/inbox.ts',
      "import { ChatService } from '../modules/chat/service';\nexport const s = ChatService;\n",
      'server/modules/<feature>/',
    ],
    [
      'realtime/ imports transport/',
      'server/realtime/resumable.ts',
      "import { HANDED_OVER } from '../transport/claims';\nexport const h = HANDED_OVER;\n",
      'import cycle',
    ],
  ])('fails when %s', async (_, filePath, code, advice) => {
    const restricted = (await lint(filePath, code)).filter((m) => m.ruleId === 'no-restricted-imports');
    expect(restricted).toHaveLength(1);
    expect(restricted[0]!.message).toContain(advice);
  });

  it.each([
    ['a feature router imports @trpc/server', 'server/modules/market/router.ts', trpc],
    ['the auth router imports @trpc/server', 'server/modules/auth/router.ts', trpc],
    ['the adapter imports @trpc/server', 'server/transport/ws-adapter.ts', trpc],
    [
      'transport/ imports realtime/',
      'server/transport/fanout.ts',
      "import { topic } from '../realtime/bus';\nexport const t = topic;\n",
    ],
    [
      'a feature imports realtime/, errors and shared/',
      'server/modules/chat/service.ts',
      [
        "import { AppError } from '../../errors';",
        "import { Inbox } from '../../realtime/inbox';",
        "import { ZSendInput } from '../../../shared/chat';",
        'export const parts = [AppError, Inbox, ZSendInput];',
        '',
      ].join('\n'),
    ],
    [
      'cluster/ imports realtime/',
      'server/cluster/pg-bus.ts',
      "import { topic } from '../realtime/bus';\nexport const t = topic;\n",
    ],
  ])('passes when %s', async (_, filePath, code) => {
    // No message at all: also proves the path is linted, not ignored.
    expect(await lint(filePath, code)).toEqual([]);
  });
});
