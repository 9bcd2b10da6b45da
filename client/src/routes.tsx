import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import { ComingSoon } from './components/ComingSoon';

export interface AppRoute {
  path: string;
  label: string;
  adminOnly?: boolean;
  component: ComponentType | LazyExoticComponent<ComponentType>;
}

const soon = (feature: string) => () => <ComingSoon feature={feature} />;

// Each feature replaces its "coming soon" entry with its page, loaded on demand:
//   component: lazy(() => import('./features/market/MarketPage'))   (default export)
export const routes: AppRoute[] = [
  { path: '/discovery', label: 'Discovery', component: lazy(() => import('./features/discovery/DiscoveryPage')) },
  { path: '/market', label: 'Market', component: lazy(() => import('./features/market/MarketPage')) },
  { path: '/chat', label: 'Chat', component: lazy(() => import('./features/chat/ChatPage')) },
  { path: '/collections', label: 'Collections', component: lazy(() => import('./features/collections/CollectionsPage')) },
  { path: '/vault', label: 'Vault', adminOnly: true, component: lazy(() => import('./features/vault/VaultPage')) },
];
