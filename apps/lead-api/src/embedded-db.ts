import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), persisted in `dir` and served over the wire
 * protocol on a loopback port, so `start` works on a machine with no database server. It serves
 * one connection at a time: use a pool of one.
 */
export async function startEmbeddedDatabase(dir: string): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  // The lead search's extensions (see the workday migration) ship with PGlite; loaded on request.
  const db = await PGlite.create(dir, { extensions: { pg_trgm, unaccent } });
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
