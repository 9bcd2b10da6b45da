import { useQuery } from '@tanstack/react-query';
import { Suspense, lazy } from 'react';
import { Redirect, Route, Switch } from 'wouter';
import { AuthPage } from './components/AuthPage';
import { Layout } from './components/Layout';
import { NotFound } from './components/NotFound';
import { NotificationToasts } from './components/NotificationToasts';
import { ChatLive } from './features/chat/live';
import { routes } from './routes';

const AccountPage = lazy(() => import('./features/account/AccountPage'));
import { useTRPC } from './trpc';

export function App() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());

  if (me.isPending)
    return (
      <div className="splash" aria-busy="true">
        Loading Hubcast…
      </div>
    );
  if (me.isError)
    return (
      <div className="splash error" role="alert">
        Hubcast is not answering ({me.error.message}). <button onClick={() => me.refetch()}>Try again</button>
      </div>
    );
  if (!me.data) return <AuthPage />;

  const user = me.data;
  const visible = routes.filter((r) => !r.adminOnly || user.role === 'admin');
  return (
    <Layout user={user} routes={visible}>
      <NotificationToasts />
      <ChatLive />
      <Suspense fallback={<div className="loading">Loading page…</div>}>
        <Switch>
          {visible.map((r) => (
            <Route key={r.path} path={r.path} component={r.component} />
          ))}
          <Route path="/account" component={AccountPage} />
          <Route path="/">
            <Redirect to={visible[0]!.path} />
          </Route>
          <Route>
            <NotFound home={visible[0]!} />
          </Route>
        </Switch>
      </Suspense>
    </Layout>
  );
}
