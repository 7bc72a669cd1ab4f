import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import pg from 'pg';

/** The real PostgreSQL server the tests run against, as in the service's own tests. */
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = 'sdk-test-secret-that-is-at-least-32-characters';
const MAIN = fileURLToPath(new URL('../../../../apps/lead-api/dist/main.js', import.meta.url));

export const ADMIN_ID = '22222222-2222-4222-8222-222222222222';

export interface Service {
  url: string;
  adminToken(): Promise<string>;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

async function onServer<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function listeningUrl(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output()}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output()}`));
    });
  });
}

/**
 * The built service (`apps/lead-api/dist`) as its own process, on a free port, over a fresh
 * database it migrates at start-up: the SDK is tested against exactly what gets deployed.
 */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const database = `lead_sdk_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer(SERVER_URL, (c) => c.query(`create database "${database}"`));
  const databaseUrl = new URL(SERVER_URL);
  databaseUrl.pathname = `/${database}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'lead-sdk-'));

  // The rate limiter keeps to its in-memory store (no REDIS_URL), so limits set by one test
  // process never touch another's.
  const { REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...inherited,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'INFO',
      DATABASE_URL: databaseUrl.toString(),
      DATA_DIR: dataDir,
      AUTH_JWT_SECRET: SECRET,
      // Tests create several leads from one address; the browser test sets its own limit.
      RATE_LIMIT_CREATE_PER_HOUR: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

  let url: string;
  try {
    url = await listeningUrl(child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    await onServer(SERVER_URL, (c) => c.query(`drop database if exists "${database}" with (force)`));
    throw error;
  }

  return {
    url,
    adminToken: () =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(ADMIN_ID)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET)),
    sql: async (query, params = []) => onServer(databaseUrl.toString(), async (c) => (await c.query(query, params)).rows),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await onServer(SERVER_URL, (c) => c.query(`drop database if exists "${database}" with (force)`));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const uniqueEmail = () => `sdk-${randomUUID().slice(0, 8)}@example.com`;
