import { defineConfig } from 'tsup';

// Drivers that knex and MikroORM require only for other databases (inside functions that the
// PostgreSQL dialect never calls): left as requires, never resolved.
const otherDatabases = [
  'better-sqlite3',
  'libsql',
  'mariadb',
  'mariadb/callback',
  'mysql',
  'mysql2',
  'oracledb',
  'sqlite3',
  'tedious',
  'pg-native',
  'pg-query-stream',
];

// One bundle of the service and its npm dependencies: loading it reads a few files instead of
// resolving and reading thousands in node_modules, and Node lexes no CommonJS file for its exports
// (start-up time was mostly module loading). Code that the first request does not need is behind
// dynamic imports, which become chunks of their own that load when first used (the migrator,
// the embedded database, tracing). Still external: PGlite, which loads its WebAssembly from its
// own package, and pino-pretty (only for LOG_FORMAT=pretty). Swagger UI's assets are read from
// node_modules by path, as before.
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  esbuildOptions(options) {
    // `--enable-source-maps` parses the map at start-up and keeps it for the process's life; stack
    // traces need only its mappings, and the sources it names are beside it in the checkout.
    options.sourcesContent = false;
    // Whitespace and syntax only, names kept: a quarter less text for Node to compile and to
    // scan for the source map's line lengths, while stack traces map back through the map.
    options.minifyWhitespace = true;
    options.minifySyntax = true;
    options.external = [
      ...(options.external ?? []),
      ...otherDatabases,
      'pino-pretty',
      '@electric-sql/pglite',
      '@electric-sql/pglite-socket',
    ];
  },
  clean: true,
  noExternal: [/./],
  // CommonJS code in an ES module: its `require` of Node's modules and of the externals above.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
