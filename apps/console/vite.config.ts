// The console is served by the gateway at /console/ under a strict CSP: no inline script or style in the HTML,
// hashed file names under assets/ (cached for a year), index.html never cached.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // Inlined data: URLs would need img-src/font-src data: everywhere; keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    // One bundle (React, Recharts, Pico) of ~600 kB, ~180 kB gzipped, cached for a year.
    chunkSizeWarningLimit: 1024,
  },
});
