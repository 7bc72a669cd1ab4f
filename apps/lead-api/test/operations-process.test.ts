import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { admin, connect, createDatabase, databaseUrl, dropDatabase, SERVER_URL, uniqueName, withClient } from './support/database.js';
import { freePort } from './support/redis.js';
import { spawnService, stopServices } from './support/service.js';
import { waitUntil } from './support/wait.js';

/**
 * The built service as an operator meets it: a database that comes up late, one that does not
 * exist, a port already taken, and SIGTERM with a request stuck on a lock.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const server = new URL(SERVER_URL);
const PASSWORD = 'never-log-this-password';

const run = (env: Record<string, string>) => spawnService({ LOG_FORMAT: 'json', AUTH_JWT_SECRET: 'x'.repeat(32), ...env });

const databases: string[] = [];
afterAll(async () => {
  await stopServices('SIGKILL');
  for (const name of databases) await dropDatabase(name);
});

const lines = (output: string) =>
  output
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A TCP proxy to the PostgreSQL server that only starts listening when told: "the database comes up later". */
function lateDatabase(port: number) {
  const listener = net.createServer((client) => {
    const upstream = net.connect(Number(server.port || 5432), server.hostname);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.pipe(upstream).pipe(client);
  });
  return {
    up: () => new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve)),
    close: () => new Promise((resolve) => listener.close(resolve)),
  };
}

describe('start-up', () => {
  it('waits for a database that comes up later, one JSON line per attempt naming host and database, never the password', async () => {
    const database = await createDatabase(inject('templateDatabase'));
    databases.push(database);
    const port = await freePort();
    const proxy = lateDatabase(port);
    const started = run({ DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`, DB_START_TIMEOUT_MS: '30000' });
    try {
      await waitUntil('two failed attempts', () => (started.output().match(/database unreachable; retrying/g) ?? []).length >= 2);
      await proxy.up();
      const url = await started.url();
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      const attempts = lines(started.output()).filter((l) => l.msg === 'database unreachable; retrying');
      expect(attempts[0]).toMatchObject({ host: '127.0.0.1', port, database, user: 'postgres', attempt: 1, reason: 'ECONNREFUSED' });
      expect(started.output()).not.toContain(PASSWORD);
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
      await proxy.close();
    }
  });

  it('gives up after DB_START_TIMEOUT_MS with exit 1 and one clear line', async () => {
    const port = await freePort();
    const started = run({ DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/leads`, DB_START_TIMEOUT_MS: '1500' });
    expect(await started.exited).toBe(1);
    const last = lines(started.output()).at(-1)!;
    expect(last).toMatchObject({
      level: 60,
      msg: expect.stringMatching(/^database "leads" on 127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\) after \d+ attempt/),
    });
    expect(started.output()).not.toContain(PASSWORD);
    expect(started.output()).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('refuses a database that does not exist, by name, and creates nothing', async () => {
    const missing = uniqueName('lead_missing');
    const started = run({ DATABASE_URL: databaseUrl(missing) });
    expect(await started.exited).toBe(1);
    expect(lines(started.output()).at(-1)).toMatchObject({
      level: 60,
      msg: expect.stringContaining(`database "${missing}" does not exist on`),
    });
    const exists = await admin((c) => c.query('select 1 from pg_database where datname = $1', [missing]));
    expect(exists.rowCount).toBe(0);
  });

  it('refuses a port in use with one line, before any migration runs', async () => {
    const empty = await createDatabase();
    databases.push(empty);
    const taken = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const started = run({ DATABASE_URL: databaseUrl(empty), PORT: String(port) });
      expect(await started.exited).toBe(1);
      expect(lines(started.output())).toEqual([expect.objectContaining({ level: 60, msg: `PORT: 127.0.0.1:${port} is already in use` })]);
      const schema = await withClient(
        empty,
        async (c) => (await c.query(`select 1 from information_schema.schemata where schema_name = 'lead'`)).rowCount,
      );
      expect(schema).toBe(0);
    } finally {
      taken.close();
    }
  });

  it('`npm run -s token -- --help` prints usage, not a stack', () => {
    const result = spawnSync('npm', ['run', '-s', 'token', '--', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run -s token -- \[--role admin\|cms\|sales\]/);
    expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });
});

describe('shutdown', () => {
  it('SIGTERM with a request stuck on a lock: readiness fails at once, and the process exits by SHUTDOWN_TIMEOUT_MS', async () => {
    const database = await createDatabase(inject('templateDatabase'));
    databases.push(database);
    // No database bounds, so that the request really is stuck for as long as the lock.
    const started = run({
      DATABASE_URL: databaseUrl(database),
      SHUTDOWN_TIMEOUT_MS: '2000',
      DB_LOCK_TIMEOUT_MS: '0',
      DB_STATEMENT_TIMEOUT_MS: '0',
    });
    const url = await started.url();
    const locker = await connect(database);
    await locker.query('begin');
    await locker.query('lock table lead.leads in access exclusive mode');
    try {
      const stuck = fetch(`${url}/api/v1/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Stuck Request', email: 'stuck@example.com' }),
      }).catch((error: unknown) => error);
      await new Promise((r) => setTimeout(r, 500));
      const signalled = performance.now();
      started.child.kill('SIGTERM');
      const ready = await fetch(`${url}/health/ready`).catch(() => null);
      if (ready) expect(ready.status).toBe(503);
      const code = await started.exited;
      const exitMs = Math.round(performance.now() - signalled);
      console.log(`SIGTERM with a stuck request: exited ${code} after ${exitMs} ms (SHUTDOWN_TIMEOUT_MS=2000)`);
      expect(code).toBe(1);
      expect(exitMs).toBeLessThan(4_000);
      expect(started.output()).toContain('shutdown deadline passed');
      await stuck;
    } finally {
      await locker.query('rollback').catch(() => {});
      await locker.end();
    }
  });
});

describe('the request log', () => {
  it('is written in batches, yet a quiet service writes a line within a moment, and a stopping one every line', async () => {
    const database = await createDatabase(inject('templateDatabase'));
    databases.push(database);
    const started = run({ DATABASE_URL: databaseUrl(database) });
    const url = await started.url();
    const completed = () => lines(started.output()).filter((l) => l.msg === 'request completed').length;
    // One line is far less than a batch: it is written by the timer, well within a second.
    const alone = Date.now();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await waitUntil('the lone request line', () => completed() === 1, 5_000, 10);
    expect(Date.now() - alone).toBeLessThan(1_000);
    // A burst, then SIGTERM at once: the lines still buffered go out before the process exits.
    await Promise.all(Array.from({ length: 50 }, () => fetch(`${url}/health`)));
    expect(await started.stop('SIGTERM')).toBe(0);
    expect(completed()).toBe(51);
  });
});
