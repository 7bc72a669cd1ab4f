// The website's budget: what a site pays, minified and gzipped, for submitting a lead and for the
// form helper. Measures the built files (run after `tsup`) and fails when one is over budget.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const dist = new URL('../dist/', import.meta.url);

/** What a bundler ships for `import { <names> } from '@lead-service/sdk/website'`, tree-shaken. */
async function bundled(names) {
  const result = await build({
    stdin: { contents: `export { ${names} } from './website.js';`, resolveDir: dist.pathname },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
  });
  // The website entry must stand alone: no zod, tRPC or superjson pulled in behind it.
  const inputs = Object.keys(result.metafile.inputs).filter((input) => input !== '<stdin>');
  if (inputs.some((input) => !input.startsWith('dist/'))) throw new Error(`the website entry bundles other modules: ${inputs.join(', ')}`);
  return result.outputFiles[0].contents;
}

const measured = [
  // A site with its own form code: `submitLead` and the error classes it throws.
  { name: 'submitLead + errors (ESM, bundled + minified)', budget: 2048, bytes: await bundled('submitLead, LeadServiceError') },
  // A site that lets the helper run its form (attribution collection included, as submitLead's).
  { name: 'bindLeadForm (ESM, bundled + minified)', budget: 3584, bytes: await bundled('bindLeadForm') },
  // The script-tag build, as served: everything, and forms marked `data-lead-service` bound at load.
  { name: 'lead-service.global.js (script tag)', budget: 4096, bytes: await readFile(new URL('lead-service.global.js', dist)) },
];

let over = false;
for (const { name, budget, bytes } of measured) {
  const gzip = gzipSync(bytes, { level: 9 }).length;
  over ||= gzip > budget;
  console.log(`${name}: ${bytes.length} B minified, ${gzip} B gzip (budget ${budget} B)${gzip > budget ? '  OVER BUDGET' : ''}`);
}
if (over) process.exit(1);
