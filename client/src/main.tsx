import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Toaster } from 'sonner';
import { App } from './App';
import './styles.css';
import { TRPCProvider, queryClient, trpcClient } from './trpc';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <App />
        {/* Bottom left: the main actions (Send, page header buttons) sit at the top or on the right. */}
        <Toaster
          position="bottom-left"
          richColors
          closeButton
          mobileOffset={8}
          toastOptions={{ className: 'hub-toast' }}
        />
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);

// Keeps the app's shell for offline reloads (client/public/sw.js). Network first, so it never serves
// an old page while the server answers.
if ('serviceWorker' in navigator)
  window.addEventListener('load', () => void navigator.serviceWorker.register('/sw.js').catch(() => {}));
