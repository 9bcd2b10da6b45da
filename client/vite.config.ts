import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    // `npm run dev`: the API server on :3000 behind Vite's dev server on :5173.
    proxy: { '/trpc': { target: 'http://127.0.0.1:3000', ws: true } },
  },
});
