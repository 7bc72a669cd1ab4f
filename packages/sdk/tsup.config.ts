import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', website: 'src/website.ts' },
    format: ['esm', 'cjs'],
    platform: 'neutral',
    // Each entry stands alone: the website bundle must not reach into a chunk shared with the CMS client.
    splitting: false,
    target: 'es2022',
    sourcemap: true,
    clean: true,
    // The contracts are a private workspace package: their types are inlined into the
    // declarations, so the published `.d.ts` needs only public packages (zod, @trpc/server).
    dts: true,
    external: ['@trpc/client', '@trpc/server', 'superjson'],
  },
  {
    entry: { 'lead-service': 'src/global.ts' },
    format: ['iife'],
    globalName: 'LeadService',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: true,
  },
]);
