import { authRouter } from './modules/auth/router';
import { chatRouter } from './modules/chat/router';
import { collectionsRouter } from './modules/collections/router';
import { discoveryRouter } from './modules/discovery/router';
import { marketRouter } from './modules/market/router';
import { presenceRouter } from './modules/presence/router';
import { systemRouter } from './modules/system/router';
import { usersRouter } from './modules/users/router';
import { vaultRouter } from './modules/vault/router';
import { vintedRouter } from './modules/vinted/router';
import { router } from './trpc';

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  users: usersRouter,
  discovery: discoveryRouter,
  market: marketRouter,
  vault: vaultRouter,
  vinted: vintedRouter,
  chat: chatRouter,
  collections: collectionsRouter,
  presence: presenceRouter,
});

export type AppRouter = typeof appRouter;
