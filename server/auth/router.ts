import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ZAuthOutput, ZSessionUser, ZSignInInput, ZSignUpInput } from '../../shared/auth';
import type { Context } from '../context';
import { authedProcedure, publicProcedure, rateLimited, router } from '../trpc';
import { clearedSessionCookie, sessionCookie } from './cookies';
import { SignInLockout } from './lockout';
import type { SignedIn } from './service';

// Per address, whatever token the caller sends: slows password guessing and account spraying
// without bothering real people. Per account: see SignInLockout.
const credentialProcedure = rateLimited(publicProcedure, 'auth', { points: 20, durationSeconds: 60, by: 'address' });
const lockouts = new WeakMap<Context['app'], SignInLockout>();
const lockoutFor = (app: Context['app']) => {
  let lockout = lockouts.get(app);
  if (!lockout) lockouts.set(app, (lockout = new SignInLockout((o) => app.limits.limiter(o))));
  return lockout;
};

function handOut(ctx: Context, signedIn: SignedIn) {
  ctx.request.setCookie?.(sessionCookie(signedIn.token, signedIn.session.expiresAt, ctx.app.config.SESSION_COOKIE_SECURE));
  return { user: signedIn.user, token: signedIn.token };
}

function refuseForeignOrigin(ctx: Context) {
  // Sign-in from another site would plant our cookie in the victim's browser (login CSRF).
  if (!ctx.request.originTrusted) throw new TRPCError({ code: 'FORBIDDEN', message: 'Sign in from a Hubcast page.' });
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
      const lockout = lockoutFor(ctx.app);
      await lockout.check(input.email);
      const signedIn = await ctx.app.auth.signIn(input.email, input.password).catch(async (err: unknown) => {
        if (err instanceof TRPCError && err.code === 'UNAUTHORIZED') await lockout.failed(input.email);
        throw err;
      });
      await lockout.succeeded(input.email);
      return handOut(ctx, signedIn);
    }),

  signOut: authedProcedure.output(z.object({ ok: z.literal(true) })).mutation(async ({ ctx }) => {
    await ctx.app.auth.signOut(ctx.session.id);
    ctx.request.setCookie?.(clearedSessionCookie(ctx.app.config.SESSION_COOKIE_SECURE));
    return { ok: true as const };
  }),

  me: publicProcedure.output(ZSessionUser.nullable()).query(({ ctx }) => ctx.user),
});
