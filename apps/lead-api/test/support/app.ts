import { PassThrough } from 'node:stream';
import { createOrm, type ConnectionBounds, type MikroORM } from '@lead/db';
import type { AppRouter } from '@lead/contracts';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import superjson from 'superjson';
import { afterAll, inject } from 'vitest';
import { hs256Authenticator, signDevToken, type Authenticator } from '../../src/auth.js';
import { parseEnv } from '../../src/env.js';
import { buildServer, type ServerDeps } from '../../src/server.js';
import { createDatabase, databaseUrl, dropDatabase, uniqueName } from './database.js';
import { assertDocumentedResponse } from './openapi-validator.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const ADMIN_ID = '11111111-1111-4111-8111-111111111111';
export const TEST_ERASURE_HASH_SECRET = 'test-erasure-hash-secret-of-32-characters-or-more';

export interface TestApp {
  url: string;
  app: FastifyInstance;
  orm: MikroORM;
  /** Everything the service logged, one JSON line each. */
  logs(): string;
  token(role?: string, sub?: string): Promise<string>;
  trpc(token?: string): TRPCClient<AppRouter>;
  /** REST call with JSON in and out; throws if the answer is not what the OpenAPI document says. */
  rest(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    headers: Headers;
    body: any;
  }>;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
}

export interface TestAppOptions {
  env?: Partial<ServerDeps['env']>;
  /** Count rate limits in this Redis instead of in memory. */
  redis?: Redis;
  /** Share the database of another test app (two instances of one service). */
  database?: string;
  auth?: Authenticator;
  /** Reach the database server at this address instead of directly (e.g. through a proxy a test can cut). */
  databaseAddress?: { host: string; port: number };
  /** Statement, lock and pool bounds on the app's connections, as the service sets them (none by default). */
  bounds?: ConnectionBounds;
  /** Shared with the test, to drain the app as shutdown does. */
  lifecycle?: ServerDeps['lifecycle'];
}

/**
 * What `startTestApp` opened in this test file, closed after the file's tests. The hook is
 * registered here, as the file imports this module: `afterAll` called from inside a `beforeAll`
 * (where apps are started) is never run, and every file's database was left behind.
 */
const openApps: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of openApps.splice(0).reverse()) await close();
});

/**
 * The real service on a real port, over a database of its own cloned from the migrated
 * template. Closed (and the database dropped) after the file's tests. Rate limits are high and
 * their Redis keys namespaced per app unless a test sets them: many tests create from 127.0.0.1.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp & { database: string }> {
  const name = options.database ?? (await createDatabase(inject('templateDatabase')));
  const clientUrl = new URL(databaseUrl(name));
  if (options.databaseAddress) {
    clientUrl.hostname = options.databaseAddress.host;
    clientUrl.port = String(options.databaseAddress.port);
  }
  const orm = await createOrm({ clientUrl: clientUrl.toString(), ...(options.bounds ? { bounds: options.bounds } : {}) });
  let logged = '';
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => (logged += chunk.toString()));
  const app = await buildServer({
    env: {
      // The service's own defaults, as a deployment without settings gets them.
      ...parseEnv({}),
      LOG_LEVEL: 'DEBUG',
      RATE_LIMIT_CREATE_PER_HOUR: 10_000,
      RATE_LIMIT_ADMIN_PER_MINUTE: 10_000,
      RATE_LIMIT_KEY_PREFIX: uniqueName('lead-test'),
      ...options.env,
    },
    redis: options.redis,
    lifecycle: options.lifecycle,
    orm,
    auth: options.auth ?? hs256Authenticator(TEST_SECRET),
    logStream,
    erasureHashSecret: TEST_ERASURE_HASH_SECRET,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;

  openApps.push(async () => {
    // Clients a test leaves connected (a browser's keep-alive sockets) would hold close() open.
    const closing = app.close();
    app.server.closeAllConnections();
    await closing;
    await orm.close();
    if (!options.database) await dropDatabase(name);
  });

  return {
    database: name,
    url,
    app,
    orm,
    logs: () => logged,
    token: (role = 'admin', sub = ADMIN_ID) => signDevToken(TEST_SECRET, { id: sub, role }),
    trpc: (token) =>
      createTRPCClient<AppRouter>({
        links: [
          httpLink({
            url: `${url}/trpc`,
            transformer: superjson,
            headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
          }),
        ],
      }),
    async rest(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      // Every REST answer any test gets is held to the OpenAPI document.
      assertDocumentedResponse({ method, url: path, status: res.status, headers: res.headers, body });
      return { status: res.status, headers: res.headers, body };
    },
    sql: (query, params = []) => orm.em.fork().getConnection().execute(query, params),
  };
}

export const sampleLead = (overrides: Record<string, unknown> = {}) => ({
  name: 'John Doe',
  email: 'john@example.com',
  phone: '+919876543210',
  company: 'Acme Corp',
  message: 'Interested in your services',
  source: 'website',
  ...overrides,
});
