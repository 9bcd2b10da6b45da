import { createInterface } from 'node:readline/promises';
import type { Command } from '../command';
import { view } from '../render';
import { httpApi, loginHint, saveToken } from '../session';

const signedIn = (user: { name: string; email: string | null; role: string }) =>
  view(
    user,
    `Signed in as ${user.name}${user.email ? ` <${user.email}>` : ''}${user.role === 'admin' ? ' (admin)' : ''}.`,
  );

async function ask(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stderr.write('\n');
  return answer;
}

const credentials = async (flags: Record<string, string | boolean | undefined>) => ({
  email: typeof flags.email === 'string' ? flags.email : await ask('E-mail: '),
  password:
    process.env.HUBCAST_PASSWORD ??
    (typeof flags.password === 'string' ? flags.password : await ask('Password: ', true)),
});

export const accountCommands: Command[] = [
  {
    name: 'signup',
    usage: 'signup --email E --name N   (password from HUBCAST_PASSWORD or prompt)',
    async run({ ctx, flags }) {
      const { email, password } = await credentials(flags);
      const name = typeof flags.name === 'string' ? flags.name : await ask('Name: ');
      const { user, token } = await httpApi(ctx).auth.signUp.mutate({ email, password, name });
      await saveToken(ctx.url, token);
      return signedIn(user);
    },
  },
  {
    name: 'login',
    usage: 'login --email E   (password from HUBCAST_PASSWORD or prompt)',
    async run({ ctx, flags }) {
      const { user, token } = await httpApi(ctx).auth.signIn.mutate(await credentials(flags));
      await saveToken(ctx.url, token);
      return signedIn(user);
    },
  },
  {
    name: 'logout',
    usage: 'logout [--everywhere]   (--everywhere: every device of this account, this one included)',
    async run({ ctx, flags }) {
      const everywhere = flags.everywhere === true;
      if (ctx.token)
        await (everywhere ? httpApi(ctx).auth.signOutEverywhere.mutate() : httpApi(ctx).auth.signOut.mutate());
      await saveToken(ctx.url, null);
      return view({ ok: true }, everywhere ? 'Signed out on every device.' : 'Signed out.');
    },
  },
  {
    name: 'password',
    usage:
      'password   (current and new password from HUBCAST_PASSWORD and HUBCAST_NEW_PASSWORD, or prompts; signs out every other device)',
    async run({ ctx }) {
      const currentPassword = process.env.HUBCAST_PASSWORD ?? (await ask('Current password: ', true));
      const newPassword = process.env.HUBCAST_NEW_PASSWORD ?? (await ask('New password: ', true));
      await httpApi(ctx).auth.changePassword.mutate({ currentPassword, newPassword });
      return view({ ok: true }, 'Password changed. Every other device is signed out; this one stays signed in.');
    },
  },
  {
    name: 'whoami',
    usage: 'whoami',
    async run({ ctx }) {
      const me = await httpApi(ctx).auth.me.query();
      if (me) return signedIn(me);
      // A script asking "am I signed in?" reads the exit code.
      process.exitCode = 1;
      return view(null, `Not signed in. Sign in with: ${loginHint(ctx.url)}`);
    },
  },
];
