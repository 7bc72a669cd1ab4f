// Runs the pinned pnpm whatever is installed globally: corepack fails on these machines and a
// global pnpm of another version refuses to run (see ../shared/STACK.md). `npx` fetches it once.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const args = process.argv.slice(2);
if (args[0] === 'install' && args.length === 1) args.push('--frozen-lockfile', '--reporter=append-only');
const result = spawnSync('npx', ['-y', packageManager, ...args], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, npm_config_update_notifier: 'false' },
});
process.exit(result.status ?? 1);
