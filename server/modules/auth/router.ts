import { z } from 'zod';
import {
  ZAuthOutput,
  ZChangePasswordInput,
  ZOkOutput,
  ZSessionUser,
  ZSignInInput,
  ZSignUpInput,
} from '../../../shared/auth';
import { AppError } from '../../errors';
import type { Context } from '../../context';
import { authedProcedure, publicProcedure, rateLimited, router } from '../../trpc';
import { clearedSessionCookie, sessionCookie } from './cookies';
import { SignInLockout } from './lockout';
import type { SignedIn } from './service';

// Per address, whatever token the caller sends: slows password guessing and account spraying
// without bothering real people. Per account: see SignInLockout.
const credentialProcedure = rateLimited(publicProcedure, 'auth', { points: 20, durationSeconds: 60, by: 'address' });
// Guessing the current password from a stolen session: per user here, per account in SignInLockout.
const changePasswordProcedure = rateLimited(authedProcedure, 'auth.changePassword', {
  points: 20,
  durationSeconds: 60,
});
const lockouts = new WeakMap<Context['app'], SignInLockout>();
const lockoutFor = (app: Context['app']) => {
  let lockout = lockouts.get(app);
  if (!lockout) lockouts.set(app, (lockout = new SignInLockout((o) => app.limits.limiter(o))));
  return lockout;
};

function handOut(ctx: Context, signedIn: SignedIn) {
  ctx.request.setCookie?.(
    sessionCookie(signedIn.token, signedIn.session.expiresAt, ctx.app.config.SESSION_COOKIE_SECURE),
  );
  return { user: signedIn.user, token: signedIn.token };
}

function refuseForeignOrigin(ctx: Context) {
  // Sign-in from another site would plant our cookie in the victim's browser (login CSRF).
  if (!ctx.request.originTrusted) throw new AppError('FORBIDDEN', 'Sign in from a Hubcast page.');
}

export const authRouter = router({
  signUp: credentialProcedure
    .input(ZSignUpInput)
    .output(ZAuthOutput)
    .mutation(async ({ ctx, input }) => {
      refuseForeignOrigin(ctx);
      return handOut(ctx, await ctx.app.auth.signUp(input));
    }),

  signIn: credentialProcedure
    .input(ZSignInInput)
    .output(ZAuthOutput)
    .mutation(async ({ ctx, input }) => {
      refuseForeignOrigin(ctx);
      const signedIn = await lockoutFor(ctx.app).attempt(
        input.email,
        () => ctx.app.auth.signIn(input.email, input.password),
        (err) => err instanceof AppError && err.code === 'UNAUTHORIZED',
      );
      return handOut(ctx, signedIn);
    }),

  signOut: authedProcedure.output(z.object({ ok: z.literal(true) })).mutation(async ({ ctx }) => {
    await ctx.app.auth.signOut(ctx.session.id);
    ctx.request.setCookie?.(clearedSessionCookie(ctx.app.config.SESSION_COOKIE_SECURE));
    return { ok: true as const };
  }),

  changePassword: changePasswordProcedure
    .input(ZChangePasswordInput)
    .output(ZOkOutput)
    .mutation(async ({ ctx, input }) => {
      await lockoutFor(ctx.app).attempt(
        ctx.user.email,
        () => ctx.app.auth.changePassword(ctx.user, ctx.session.id, input.currentPassword, input.newPassword),
        (err) => err instanceof AppError && err.code === 'UNAUTHORIZED',
      );
      return { ok: true as const };
    }),

  signOutEverywhere: authedProcedure.output(ZOkOutput).mutation(async ({ ctx }) => {
    await ctx.app.auth.signOutEverywhere(ctx.user.id);
    ctx.request.setCookie?.(clearedSessionCookie(ctx.app.config.SESSION_COOKIE_SECURE));
    return { ok: true as const };
  }),

  me: publicProcedure.output(ZSessionUser.nullable()).query(({ ctx }) => ctx.user),
});
