import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { classified } from './classify.js';

const databases = new WeakMap<MikroORM, Database>();

/** Something SQL runs on: the pool, or the one connection of a transaction. */
export interface Sql {
  /** Runs one statement with `$1…` parameters sent apart from its text; resolves with its rows. */
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>;
}

/** The part of a `pg` client this module uses. */
interface PgConnection {
  query(config: pg.QueryConfig): Promise<{ rows: unknown[] }>;
}

/**
 * The ORM's connections leave timestamps as text for its own hydration; these statements read
 * them with `pg`'s standard parsers instead (a `timestamptz` becomes a `Date`).
 */
const run = async (connection: PgConnection, text: string, values?: readonly unknown[]) => {
  try {
    return (await connection.query({ text, values: values as unknown[] | undefined, types: pg.types })).rows;
  } catch (error) {
    throw classified(error);
  }
};

/** A connection from the pool; an unreachable or exhausted server fails as `DatabaseUnavailableError`. */
async function acquire(pool: ConnectionPool): Promise<PgConnection> {
  try {
    return await pool.acquireConnection();
  } catch (error) {
    throw classified(error);
  }
}

/** The part of knex's client (MikroORM's connection pool) this module uses. */
interface ConnectionPool {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/**
 * The one way the repositories reach the database: parameterised SQL (`$1…`) on the ORM's own
 * connection pool. The ORM's unit of work (change sets, identity map, SQL built with values
 * inlined client-side) was the largest share of each request's CPU; here each statement goes to
 * `pg` as text plus parameters. Sharing the pool keeps one bound on connections (the embedded
 * database accepts one). Driver errors leave this class classified (`classify.ts`): callers
 * see `DatabaseUnavailableError`, `UniqueViolationError`, `ConstraintViolationError`, or the
 * original error for anything else.
 */
export class Database implements Sql {
  private constructor(
    private readonly pool: ConnectionPool,
    /** Shared by a session with its `Database`: a commit on either wakes the same listeners. */
    private readonly commitListeners: Array<() => void> = [],
  ) {}

  /** The one `Database` of `orm`, so that everyone sees the same commits. */
  static of(orm: MikroORM): Database {
    let db = databases.get(orm);
    if (!db) {
      const pool: unknown = orm.em.getConnection().getKnex().client;
      db = new Database(pool as ConnectionPool);
      databases.set(orm, db);
    }
    return db;
  }

  /** Calls `listener` after each transaction this `Database` commits (e.g. to wake the outbox dispatcher). */
  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  async query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]> {
    const connection = await acquire(this.pool);
    try {
      return (await run(connection, text, values)) as Row[];
    } finally {
      await this.pool.releaseConnection(connection);
    }
  }

  /**
   * Runs `work` on one connection of the pool, held throughout and outside any transaction: a
   * `Database` of its own whose every statement and transaction goes to that connection, one at
   * a time. For what belongs to a session, such as an advisory lock (which ending the session
   * also releases, should the process die first), and for background work that must neither
   * queue behind requests for a connection nor take more than one from them.
   */
  async session<T>(work: (session: Database) => Promise<T>): Promise<T> {
    const connection = await acquire(this.pool);
    // One user of the connection at a time; the others wait their turn, in order.
    let busy = false;
    const waiting: Array<() => void> = [];
    const held: ConnectionPool = {
      acquireConnection: async () => {
        if (busy) await new Promise<void>((resolve) => waiting.push(resolve));
        busy = true;
        return connection;
      },
      releaseConnection: () => {
        const next = waiting.shift();
        if (next) next();
        else busy = false;
        return Promise.resolve();
      },
    };
    const session = new Database(held, this.commitListeners);
    try {
      return await work(session);
    } finally {
      await this.pool.releaseConnection(connection);
    }
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const connection = await acquire(this.pool);
    const tx: Sql = {
      query: async <Row>(text: string, values?: readonly unknown[]) => (await run(connection, text, values)) as Row[],
    };
    try {
      await run(connection, 'begin');
      const result = await work(tx);
      await run(connection, 'commit');
      for (const listener of this.commitListeners) listener();
      return result;
    } catch (error) {
      // A broken connection fails this too; the pool's validation then drops the connection.
      await run(connection, 'rollback').catch(() => {});
      throw error;
    } finally {
      await this.pool.releaseConnection(connection);
    }
  }
}
