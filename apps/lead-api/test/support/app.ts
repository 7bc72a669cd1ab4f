import { PassThrough } from 'node:stream';
import { createOrm, type MikroORM } from '@lead/db';
import type { AppRouter } from '@lead/contracts';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { FastifyInstance } from 'fastify';
import superjson from 'superjson';
import { afterAll, inject } from 'vitest';
import { hs256Authenticator, signDevToken, type Authenticator } from '../../src/auth.js';
import { buildServer, type ServerDeps } from '../../src/server.js';
import { createDatabase, databaseUrl, dropDatabase } from './database.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const ADMIN_ID = '11111111-1111-4111-8111-111111111111';

export interface TestApp {
  url: string;
  app: FastifyInstance;
  orm: MikroORM;
  /** Everything the service logged, one JSON line each. */
  logs(): string;
  token(role?: string, sub?: string): Promise<string>;
  trpc(token?: string): TRPCClient<AppRouter>;
  /** REST call with JSON in and out. */
  rest(method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<{
    status: number;
    headers: Headers;
    body: any;
  }>;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
}

export interface TestAppOptions {
  env?: Partial<ServerDeps['env']>;
  auth?: Authenticator;
}

/**
 * The real service on a real port, over a database of its own cloned from the migrated
 * template. Closed (and the database dropped) after the file's tests.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const name = await createDatabase(inject('templateDatabase'));
  const orm = await createOrm({ clientUrl: databaseUrl(name) });
  let logged = '';
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => (logged += chunk.toString()));
  const app = await buildServer({
    env: { LOG_LEVEL: 'DEBUG', BODY_LIMIT_BYTES: 64 * 1024, ...options.env },
    orm,
    auth: options.auth ?? hs256Authenticator(TEST_SECRET),
    logStream,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;

  afterAll(async () => {
    await app.close();
    await orm.close();
    await dropDatabase(name);
  });

  return {
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
      return { status: res.status, headers: res.headers, body };
    },
    sql: (query, params = []) => orm.em.fork().getConnection().execute(query, params as never[]),
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
