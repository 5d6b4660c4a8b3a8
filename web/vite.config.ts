import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by Vigie under /console (src/http/console.ts); `npm run dev -w web` proxies the API to a
// Vigie listening on VIGIE_DEV_ORIGIN (http://localhost:8080 by default).
const api = process.env.VIGIE_DEV_ORIGIN ?? 'http://localhost:8080';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No data: URI for the DSFR's fonts and icons: they are served as files of the console.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/sign-in', '/step-up', '/account', '/assets', '/sign-out'].map((p) => [p, api]),
    ),
  },
});
