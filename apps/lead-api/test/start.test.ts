import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnService } from './support/service.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the built service (dist/main.js)', () => {
  it('starts without DATABASE_URL on the embedded PostgreSQL, migrates it and accepts a lead', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lead-embedded-'));
    dirs.push(dataDir);
    const started = spawnService({ DATA_DIR: dataDir });
    try {
      const url = await started.url();
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
    const again = spawnService({ DATA_DIR: dataDir });
    try {
      await again.url();
      expect(again.output()).toContain('database schema is up to date');
    } finally {
      again.child.kill('SIGTERM');
    }
    expect(await again.exited).toBe(0);
  }, 240_000);

  it('refuses to start on bad configuration, one line per problem', async () => {
    const started = spawnService({ PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/PORT: must be a port number/);
    expect(started.output()).toMatch(/LOG_LEVEL: must be one of/);
    expect(started.output()).not.toMatch(/\bat .+:\d+:\d+/);
  });
});
