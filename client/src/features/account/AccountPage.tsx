import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { FieldErrors, fieldErrorsOf } from '../../components/FieldErrors';
import { signedOutHere } from '../../session-end';
import { useTRPC } from '../../trpc';
import './account.css';

/** Where a person ends a stolen session: change the password (other devices signed out) or sign out everywhere. */
export default function AccountPage() {
  const trpc = useTRPC();
  const [confirming, setConfirming] = useState(false);
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => toast.success('Password changed. Every other device is signed out.'),
    }),
  );
  const everywhere = useMutation(
    trpc.auth.signOutEverywhere.mutationOptions({
      // Every tab of this browser goes to the sign-in page with this one.
      onSuccess: signedOutHere,
      onError: (err) => toast.error(`Could not sign out everywhere: ${err.message}`),
    }),
  );
  const fieldErrors = fieldErrorsOf(change.error).field;

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    change.mutate(
      {
        currentPassword: String(data.get('currentPassword') ?? ''),
        newPassword: String(data.get('newPassword') ?? ''),
      },
      { onSuccess: () => form.reset() },
    );
  }

  return (
    <div className="account-page">
      <form className="card account-card" onSubmit={submit} noValidate aria-label="Change password">
        <h2>Change password</h2>
        <p className="muted">Every other device signed in to your account is signed out; this one stays.</p>
        <PasswordField
          label="Current password"
          name="currentPassword"
          autoComplete="current-password"
          errors={fieldErrors.currentPassword}
        />
        <PasswordField
          label="New password"
          name="newPassword"
          autoComplete="new-password"
          errors={fieldErrors.newPassword}
        />
        {change.error && !change.error.data?.zodError && (
          <p className="error" role="alert">
            {change.error.message}
          </p>
        )}
        {change.isSuccess && <p role="status">Password changed. Every other device is signed out.</p>}
        <button type="submit" className="primary" disabled={change.isPending}>
          {change.isPending ? 'Changing…' : 'Change password'}
        </button>
      </form>

      <section className="card account-card" aria-label="Sign out everywhere">
        <h2>Sign out everywhere</h2>
        <p className="muted">Ends every session of your account, on every device, this one included.</p>
        {confirming ? (
          <div className="account-confirm">
            <span>Sign out on every device?</span>
            <button className="primary" onClick={() => everywhere.mutate()} disabled={everywhere.isPending}>
              {everywhere.isPending ? 'Signing out…' : 'Yes, sign out everywhere'}
            </button>
            <button onClick={() => setConfirming(false)} disabled={everywhere.isPending}>
              Cancel
            </button>
          </div>
        ) : (
          <button onClick={() => setConfirming(true)}>Sign out everywhere…</button>
        )}
      </section>
    </div>
  );
}

function PasswordField(props: { label: string; name: string; autoComplete: string; errors?: string[] }) {
  const id = `account-${props.name}`;
  return (
    <label htmlFor={id} className="field">
      <span>{props.label}</span>
      <input
        id={id}
        name={props.name}
        type="password"
        autoComplete={props.autoComplete}
        aria-invalid={!!props.errors?.length}
      />
      <FieldErrors messages={props.errors} />
    </label>
  );
}
