import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Suspense, lazy, useEffect } from 'react';
import { Redirect, Route, Switch } from 'wouter';
import { AuthPage } from './components/AuthPage';
import { Layout } from './components/Layout';
import { NotFound } from './components/NotFound';
import { NotificationToasts } from './components/NotificationToasts';
import { ChatLive } from './features/chat/live';
import { useRefetchOnReconnect } from './reconnect';
import { rememberUser, rememberedUser } from './remembered-user';
import { routes } from './routes';

const AccountPage = lazy(() => import('./features/account/AccountPage'));
import { serverAnswered } from './server-answer';
import { useTRPC } from './trpc';

export function App() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  useRefetchOnReconnect();
  const answered = me.isSuccess;
  const unreachable = me.isError && !me.data && !serverAnswered(me.error);
  useEffect(() => {
    if (answered) rememberUser(me.data ?? null);
  }, [answered, me.data]);
  useEffect(() => {
    const user = unreachable ? rememberedUser() : null;
    if (user) queryClient.setQueryData(trpc.auth.me.queryKey(), user);
  }, [unreachable, queryClient, trpc]);

  if (me.isPending)
    return (
      <div className="splash" aria-busy="true">
        Loading Hubcast…
      </div>
    );
  // A failed refetch keeps the user it had: the pages stay, and the indicator says we are offline.
  if (me.isError && !me.data)
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
