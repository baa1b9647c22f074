/**
 * Builds the phone app into `dist/pwa`: Lit components bundled by Vite, a Workbox service worker
 * (injectManifest) and the web app manifest. The server serves the result under a strict CSP, so
 * nothing here may need an inline script or an inline style attribute.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const here = dirname(fileURLToPath(import.meta.url));

export const THEME_COLOR = '#2b3a8c';

export default defineConfig({
  root: here,
  base: './',
  resolve: {
    alias: {
      // The package's `module` is its ES5 build (classes and iterators lowered, 5.8 KB); every
      // browser the app supports runs the ES2017 one (3.3 KB).
      'workbox-window': createRequire(import.meta.url).resolve(
        'workbox-window/build/workbox-window.prod.mjs',
      ),
    },
  },
  publicDir: resolve(here, 'public'),
  build: {
    outDir: resolve(here, '../dist/pwa'),
    emptyOutDir: true,
    manifest: true,
    // Inline assets would become data: URLs in CSS or JS; keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    rolldownOptions: {
      treeshake: {
        // `diff` declares no `sideEffects`, so every differ it defines at module level (words,
        // lines, CSS, JSON…) would be kept; its modules only define classes and their instances.
        moduleSideEffects: [{ test: /[\\/]node_modules[\\/]diff[\\/]/, sideEffects: false }],
      },
      output: {
        // Everything the entry imports statically in one file: the views and cards loaded on
        // demand share it, and would otherwise split it into many small chunks (more requests,
        // and each compressed apart).
        codeSplitting: { groups: [{ name: 'index', tags: ['$initial'] }] },
      },
    },
  },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      injectRegister: false,
      registerType: 'prompt',
      manifestFilename: 'manifest.webmanifest',
      includeManifestIcons: false,
      manifest: {
        id: './',
        name: 'Countersign',
        short_name: 'Countersign',
        description: 'Review and sign Node-RED deployments before they run.',
        start_url: './#/inbox',
        scope: './',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: THEME_COLOR,
        background_color: '#f4f5fa',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          {
            src: 'icons/maskable-512.png',
            sizes: '512x512',
            type: 'image/png',
            purpose: 'maskable',
          },
        ],
      },
      injectManifest: {
        // One classic script (the worker is registered without `type: 'module'`); the "es" build
        // would pass Rollup an option Vite has deprecated.
        rollupFormat: 'iife',
        // The shell, and the icons notifications and the app itself show. The large install icons
        // are fetched by the browser when it installs the app; no need to keep them twice.
        globPatterns: [
          '**/*.{js,css,html,webmanifest}',
          'icons/icon-192.png',
          'icons/badge-96.png',
          'icons/icon.svg',
        ],
      },
      devOptions: { enabled: false },
    }),
  ],
});
