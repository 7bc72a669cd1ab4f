import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', website: 'src/website.ts', receiver: 'src/receiver.ts' },
    format: ['esm', 'cjs'],
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    clean: true,
    // Shared chunks in both formats, so that each error class exists once and `instanceof` holds
    // across entries; scripts/size.mjs checks that the website entry pulls in no package.
    splitting: true,
    // The contracts are a private workspace package: their types are inlined into the
    // declarations, so the published `.d.ts` needs only public packages (@trpc/* for the CMS entry).
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
