import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The gallery page. Preact's JSX runtime through Vite's own transformer (no plugin), and a build
// into ui/dist, which the server serves at / (src/web/gallery-page.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // The whole page is one small script; no inline scripts, so the server's CSP (script-src 'self') holds.
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    // `npm run dev` on :8000 plus `npx vite ui` here: the API calls go to the running server.
    proxy: { '/image': 'http://127.0.0.1:8000', '/me': 'http://127.0.0.1:8000' },
  },
});
