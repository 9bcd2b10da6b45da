import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { toast } from 'sonner';
import { Link, useLocation } from 'wouter';
import type { SessionUser } from '../../../shared/auth';
import type { AppRoute } from '../routes';
import { signedOutHere } from '../session-end';
import { useTRPC } from '../trpc';
import { ConnectionIndicator } from './ConnectionIndicator';

export function Layout({ user, routes, children }: { user: SessionUser; routes: AppRoute[]; children: ReactNode }) {
  const trpc = useTRPC();
  const [location] = useLocation();
  // Phones: the links and the account sit behind "Menu", so the bar stays one row.
  const [menuOpen, setMenuOpen] = useState(false);
  const health = useQuery(trpc.system.health.queryOptions(undefined, { staleTime: 60_000 }));
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      // Every tab of this browser goes to the sign-in page with this one.
      onSuccess: signedOutHere,
      onError: (err) => toast.error(`Could not sign out: ${err.message}`),
    }),
  );

  return (
    <div className="layout">
      <header
        className={`topbar ${menuOpen ? 'menu-open' : ''}`}
        onKeyDown={(e) => e.key === 'Escape' && setMenuOpen(false)}
      >
        <Link href="/" className="brand">
          Hubcast
        </Link>
        {/* Laid out in the bar itself on wider screens (display: contents); a panel under it on phones. */}
        <div
          id="topbar-menu"
          className="topbar-menu"
          onClick={(e) => (e.target as HTMLElement).closest('a, button') && setMenuOpen(false)}
        >
          <nav>
            {routes.map((r) => (
              <NavLink key={r.path} route={r} active={location.startsWith(r.path)} />
            ))}
          </nav>
          <div className="topbar-account">
            <Link
              href="/account"
              className="user"
              data-testid="user-name"
              title={`${user.email}: password and sessions`}
            >
              {user.name}
              {user.role === 'admin' && <span className="badge">admin</span>}
            </Link>
            <button className="link" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
              Sign out
            </button>
          </div>
        </div>
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
        </div>
        <button
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="topbar-menu"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
          {/* The links' counts stay in sight while the links are behind Menu. */}
          {routes.map((r) => r.useCount && <MenuCount key={r.path} route={r} useCount={r.useCount} />)}
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}

function NavLink({ route, active }: { route: AppRoute; active: boolean }) {
  if (route.useCount) return <CountedNavLink route={route} useCount={route.useCount} active={active} />;
  return (
    <Link href={route.path} className={active ? 'active' : ''}>
      {route.label}
    </Link>
  );
}

// Its own component, so the count's hook runs for the routes that have one and no others. The
// link keeps its name ("Chat"); the count is its description, for screen readers too.
function CountedNavLink({ route, useCount, active }: { route: AppRoute; useCount: () => number; active: boolean }) {
  const n = useCount();
  return (
    <Link href={route.path} className={active ? 'active' : ''} title={n > 0 ? `${n} unread` : undefined}>
      {route.label}
      {n > 0 && (
        <span className="badge nav-count" data-testid="nav-count" aria-hidden>
          {n}
        </span>
      )}
    </Link>
  );
}

function MenuCount({ route, useCount }: { route: AppRoute; useCount: () => number }) {
  const n = useCount();
  if (n === 0) return null;
  return (
    <span className="badge nav-count" data-testid="menu-count" title={`${route.label}: ${n} unread`} aria-hidden>
      {n}
    </span>
  );
}
