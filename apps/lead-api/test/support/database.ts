import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The real PostgreSQL server the tests run against (never a mock, never the embedded one). */
export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A connected client of test database `name` (by default the server's own database), that the
 * app under test knows nothing about. The caller ends it.
 */
export async function connect(name?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: name === undefined ? SERVER_URL : databaseUrl(name) });
  await client.connect();
  return client;
}

/** `fn` with a client of test database `name`, ended afterwards. */
export async function withClient<T>(name: string | undefined, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(name);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `fn` with a client of the server's own database, to create and drop databases and roles. */
export const admin = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(undefined, fn);

export const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

export async function createDatabase(template?: string): Promise<string> {
  const name = uniqueName('lead_test');
  await admin((c) => c.query(`create database "${name}"${template ? ` template "${template}"` : ''}`));
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
}
