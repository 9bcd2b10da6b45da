import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { PASSWORD_MIN } from '../../../shared/auth';
import { reconnectRealtime, useTRPC } from '../trpc';
import { FieldErrors, fieldErrorsOf } from './FieldErrors';

type Mode = 'signIn' | 'signUp';

export function AuthPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<Mode>('signIn');
  const health = useQuery(trpc.system.health.queryOptions());
  const onSuccess = ({ user }: { user: unknown }) => {
    reconnectRealtime();
    queryClient.setQueryData(trpc.auth.me.queryKey(), user as never);
  };
  const signIn = useMutation(trpc.auth.signIn.mutationOptions({ onSuccess }));
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess }));
  const active = mode === 'signIn' ? signIn : signUp;
  const fieldErrors = fieldErrorsOf(active.error).field;

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    if (mode === 'signIn') signIn.mutate({ email, password });
    else signUp.mutate({ email, password, name: String(form.get('name') ?? '') });
  }

  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={submit} noValidate>
        <h1>Hubcast</h1>
        <p className="muted">Live crypto data, chat and collections: pulled once, pushed to everyone.</p>
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'signIn'} onClick={() => setMode('signIn')}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'signUp'} onClick={() => setMode('signUp')}>
            Create account
          </button>
        </div>
        {mode === 'signUp' && <Field label="Name" name="name" autoComplete="name" errors={fieldErrors.name} />}
        <Field label="E-mail" name="email" type="email" autoComplete="email" errors={fieldErrors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete={mode === 'signIn' ? 'current-password' : 'new-password'}
          hint={mode === 'signUp' ? `At least ${PASSWORD_MIN} characters.` : undefined}
          errors={fieldErrors.password}
        />
        {active.error && !active.error.data?.zodError && (
          <p className="error" role="alert">
            {active.error.message}
          </p>
        )}
        <button type="submit" className="primary" disabled={active.isPending}>
          {active.isPending ? 'Please wait…' : mode === 'signIn' ? 'Sign in' : 'Create account'}
        </button>
        {health.data?.googleSignIn && (
          <a className="google" href="/auth/google">
            Continue with Google
          </a>
        )}
      </form>
    </div>
  );
}

function Field(props: {
  label: string;
  name: string;
  type?: string;
  autoComplete?: string;
  hint?: string;
  errors?: string[];
}) {
  const id = `field-${props.name}`;
  return (
    <label htmlFor={id} className="field">
      <span>{props.label}</span>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        autoComplete={props.autoComplete}
        aria-invalid={!!props.errors?.length}
      />
      {props.hint && !props.errors?.length && <small className="muted">{props.hint}</small>}
      <FieldErrors messages={props.errors} />
    </label>
  );
}
