import { useMutation, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { toast } from 'sonner';
import { Link, useLocation } from 'wouter';
import type { SessionUser } from '../../../shared/auth';
import type { AppRoute } from '../routes';
import { useTRPC } from '../trpc';
import { ConnectionIndicator } from './ConnectionIndicator';

export function Layout({ user, routes, children }: { user: SessionUser; routes: AppRoute[]; children: ReactNode }) {
  const trpc = useTRPC();
  const [location] = useLocation();
  const health = useQuery(trpc.system.health.queryOptions(undefined, { staleTime: 60_000 }));
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      // A full reload drops every cached query and the WebSocket opened with the old cookie.
      onSuccess: () => window.location.assign('/'),
      onError: (err) => toast.error(`Could not sign out: ${err.message}`),
    }),
  );

  return (
    <div className="layout">
      <header className="topbar">
        <Link href="/" className="brand">
          Hubcast
        </Link>
        <nav>
          {routes.map((r) => (
            <Link key={r.path} href={r.path} className={location.startsWith(r.path) ? 'active' : ''}>
              {r.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-right">
          {health.data?.upstreams === 'demo' && (
            <span
              className="badge demo"
              data-testid="demo-badge"
              title="Upstreams are simulated: prices and tokens are not real"
            >
              Demo data
            </span>
          )}
          <ConnectionIndicator />
          <Link href="/account" className="user" data-testid="user-name" title={`${user.email}: password and sessions`}>
            {user.name}
            {user.role === 'admin' && <span className="badge">admin</span>}
          </Link>
          <button className="link" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main>{children}</main>
    </div>
  );
}
