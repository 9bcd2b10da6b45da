import { authRouter } from './auth/router';
import { systemRouter } from './modules/system/router';
import { usersRouter } from './modules/users/router';
import { router } from './trpc';

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
