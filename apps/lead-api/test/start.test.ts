import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Started {
  const { DATABASE_URL: _ignored, ...parentEnv } = process.env;
  const child = spawn(process.execPath, [MAIN], { env: { ...parentEnv, HOST: '127.0.0.1', PORT: '0', ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function listeningUrl(started: Started): Promise<string> {
  // Generous: PGlite's first start takes ~5 s on a quiet machine but over 30 s on a loaded one.
  for (let i = 0; i < 1200; i++) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(started.output());
    if (match) return match[1]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service did not start:\n${started.output()}`);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the built service (dist/main.js)', () => {
  it('starts without DATABASE_URL on the embedded PostgreSQL, migrates it and accepts a lead', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lead-embedded-'));
    dirs.push(dataDir);
    const started = run({ DATA_DIR: dataDir });
    try {
      const url = await listeningUrl(started);
      const res = await fetch(`${url}/api/v1/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'John Doe', email: 'john@example.com' }),
      });
      expect(res.status).toBe(201);
      expect(started.output()).toContain('using the embedded PostgreSQL');
      expect(started.output()).toContain('migrations applied');
    } finally {
      started.child.kill('SIGTERM');
    }
    expect(await started.exited).toBe(0);

    // The data survives a restart, and the schema is found up to date.
    const again = run({ DATA_DIR: dataDir });
    try {
      await listeningUrl(again);
      expect(again.output()).toContain('database schema is up to date');
    } finally {
      again.child.kill('SIGTERM');
    }
    expect(await again.exited).toBe(0);
  }, 240_000);

  it('refuses to start on bad configuration, one line per problem', async () => {
    const started = run({ PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/PORT: must be a port number/);
    expect(started.output()).toMatch(/LOG_LEVEL: must be one of/);
    expect(started.output()).not.toMatch(/\bat .+:\d+:\d+/);
  });
});
