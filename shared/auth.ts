import { z } from 'zod';
import { text } from './text';

export const ZRole = z.enum(['user', 'admin']);
export type Role = z.infer<typeof ZRole>;

export const ZSessionUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: ZRole,
});
export type SessionUser = z.infer<typeof ZSessionUser>;

const email = text({ label: 'E-mail addresses', required: 'Enter your e-mail address.', max: 254 })
  .toLowerCase()
  .pipe(z.email({ error: 'Enter a valid e-mail address, like ada@example.com.' }));

export const PASSWORD_MIN = 8;
export const ZSignUpInput = z.object({
  email,
  // Not trimmed: spaces are part of a password.
  password: text({ label: 'Passwords', required: 'Choose a password.', min: PASSWORD_MIN, max: 256, trim: false }),
  name: text({ label: 'Names', required: 'Tell us your name.', max: 80 }),
});
export type SignUpInput = z.infer<typeof ZSignUpInput>;

export const ZSignInInput = z.object({
  email,
  password: text({ label: 'Passwords', required: 'Enter your password.', max: 256, trim: false }),
});

export const ZChangePasswordInput = z.object({
  currentPassword: text({ label: 'Passwords', required: 'Enter your current password.', max: 256, trim: false }),
  newPassword: text({
    label: 'Passwords',
    required: 'Choose a new password.',
    min: PASSWORD_MIN,
    max: 256,
    trim: false,
  }),
});
export type ChangePasswordInput = z.infer<typeof ZChangePasswordInput>;
export const ZOkOutput = z.object({ ok: z.literal(true) });

export const ZAuthOutput = z.object({ user: ZSessionUser, token: z.string() });

export const ZUserSearchInput = z.object({
  query: text({ label: 'Searches', required: 'Type at least one character to search.', max: 100 }),
});
/** `email` is null unless the caller has a reason to see it (they typed it exactly). */
export const ZUserSearchOutput = z.array(z.object({ id: z.string(), name: z.string(), email: z.string().nullable() }));
