import { defineConfig } from 'tsup';

// One bundle with the workspace packages inlined (they ship TypeScript source); npm
// dependencies stay external and load from node_modules, so the workspace packages' runtime
// dependencies are listed in this package too.
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // `--enable-source-maps` parses the map at start-up and keeps it for the process's life; stack
  // traces need only its mappings, and the sources it names are beside it in the checkout.
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
  clean: true,
  skipNodeModulesBundle: true,
  noExternal: [/^@lead\//],
});
