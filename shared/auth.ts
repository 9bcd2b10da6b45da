import { z } from 'zod';

export const ZRole = z.enum(['user', 'admin']);
export type Role = z.infer<typeof ZRole>;

export const ZSessionUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: ZRole,
});
export type SessionUser = z.infer<typeof ZSessionUser>;

const email = z
  .string({ error: 'Enter your e-mail address.' })
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'Enter a valid e-mail address, like ada@example.com.' }))
  .pipe(z.string().max(254, { error: 'E-mail addresses are at most 254 characters.' }));

export const PASSWORD_MIN = 8;
export const ZSignUpInput = z.object({
  email,
  password: z
    .string({ error: 'Choose a password.' })
    .min(PASSWORD_MIN, { error: `Passwords need at least ${PASSWORD_MIN} characters.` })
    .max(256, { error: 'Passwords are at most 256 characters.' }),
  name: z
    .string({ error: 'Tell us your name.' })
    .trim()
    .min(1, { error: 'Tell us your name.' })
    .max(80, { error: 'Names are at most 80 characters.' }),
});
export type SignUpInput = z.infer<typeof ZSignUpInput>;

export const ZSignInInput = z.object({
  email,
  password: z.string({ error: 'Enter your password.' }).min(1, { error: 'Enter your password.' }).max(256),
});

export const ZAuthOutput = z.object({ user: ZSessionUser, token: z.string() });

export const ZUserSearchInput = z.object({
  query: z.string().trim().min(1, { error: 'Type at least one character to search.' }).max(100),
});
export const ZUserSearchOutput = z.array(z.object({ id: z.string(), name: z.string(), email: z.string() }));
