// Prints one closing line for the whole run, "N passed, N failed", from the vitest JSON reports
// each package writes, so CI reads one verdict across packages.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ['apps', 'packages']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const file = `${group}/${name}/test-results.json`;
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
