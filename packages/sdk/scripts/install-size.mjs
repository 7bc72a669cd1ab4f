// What installing the packed package costs a project, per entry: `npm pack`-style tarball via
// the workspace's pnpm (so catalog: versions become real ones), installed into a fresh folder
// outside the workspace with what the README tells each user to add. Prints the size on disk, per
// package: tRPC's own required peer on \`typescript\` makes npm add a compiler unless the project has one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdk = fileURLToPath(new URL('..', import.meta.url));
const pnpm = fileURLToPath(new URL('../../../tooling/scripts/pnpm.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'lead-sdk-size-'));

function du(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? du(path) : statSync(path).size;
  }
  return total;
}

try {
  execFileSync(process.execPath, [pnpm, '--dir', sdk, 'pack', '--pack-destination', work], { stdio: 'ignore' });
  const tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz')),
  );
  console.log(`tarball: ${statSync(tarball).size} B`);
  const users = {
    'website / receiver (`@lead-service/sdk` alone)': [],
    'CMS (+ @trpc/client superjson; npm adds @trpc/server)': ['@trpc/client@11.25.2', 'superjson@2.2.6'],
  };
  for (const [name, extra] of Object.entries(users)) {
    const project = mkdtempSync(join(work, 'p-'));
    writeFileSync(join(project, 'package.json'), '{"name":"size","private":true}');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...extra], { cwd: project, stdio: 'ignore' });
    const modules = join(project, 'node_modules');
    const packages = readdirSync(modules).flatMap((p) =>
      p.startsWith('@') ? readdirSync(join(modules, p)).map((q) => `${p}/${q}`) : p.startsWith('.') ? [] : [p],
    );
    const sizes = packages.map((p) => `${p} ${(du(join(modules, p)) / 1024).toFixed(0)} KiB`);
    console.log(`${name}: ${(du(modules) / 1024).toFixed(0)} KiB on disk\n  ${sizes.join('\n  ')}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
