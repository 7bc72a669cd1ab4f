// The website entry's budget: what a site pays, minified and gzipped, for submitting a lead.
// Measures the built files (run after `tsup`) and fails when one is over budget.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const BUDGET = 2048;
const dist = new URL('../dist/', import.meta.url);

async function bundled(entry) {
  const result = await build({
    entryPoints: [new URL(entry, dist).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
  });
  // The website entry must stand alone: no zod, tRPC or superjson pulled in behind it.
  const inputs = Object.keys(result.metafile.inputs);
  if (inputs.length !== 1) throw new Error(`${entry} bundles other modules: ${inputs.join(', ')}`);
  return result.outputFiles[0].contents;
}

const measured = [
  // A bundler importing `submitLead` from `@lead-service/sdk/website`.
  { name: 'website (ESM, bundled + minified)', bytes: await bundled('website.js') },
  // The script-tag build, as served.
  { name: 'lead-service.global.js (script tag)', bytes: await readFile(new URL('lead-service.global.js', dist)) },
];

let over = false;
for (const { name, bytes } of measured) {
  const gzip = gzipSync(bytes, { level: 9 }).length;
  over ||= gzip > BUDGET;
  console.log(`${name}: ${bytes.length} B minified, ${gzip} B gzip (budget ${BUDGET} B)${gzip > BUDGET ? '  OVER BUDGET' : ''}`);
}
if (over) process.exit(1);
