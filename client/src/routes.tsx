import { useUnreadTotal } from './features/chat/unread';
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

export interface AppRoute {
  path: string;
  label: string;
  adminOnly?: boolean;
  component: ComponentType | LazyExoticComponent<ComponentType>;
  /** A count shown beside the nav link (a hook: called on every render of the link). */
  useCount?: () => number;
}

// Each feature's page is loaded on demand (its default export).
export const routes: AppRoute[] = [
  { path: '/discovery', label: 'Discovery', component: lazy(() => import('./features/discovery/DiscoveryPage')) },
  { path: '/market', label: 'Market', component: lazy(() => import('./features/market/MarketPage')) },
  {
    path: '/chat',
    label: 'Chat',
    component: lazy(() => import('./features/chat/ChatPage')),
    useCount: useUnreadTotal,
  },
  {
    path: '/collections',
    label: 'Collections',
    component: lazy(() => import('./features/collections/CollectionsPage')),
  },
  { path: '/vault', label: 'Vault', adminOnly: true, component: lazy(() => import('./features/vault/VaultPage')) },
];
