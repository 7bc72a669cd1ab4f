import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { classified, sqlStateOf } from './classify.js';

const databases = new WeakMap<MikroORM, Database>();

/** Something SQL runs on: the pool, or the one connection of a transaction. */
export interface Sql {
  /** Runs one statement with `$1…` parameters sent apart from its text; resolves with its rows. */
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>;
}

/** The part of a `pg` client this module uses. */
interface PgConnection {
  query(config: pg.QueryConfig | object): Promise<PgResult>;
}

/**
 * Statement names, one per text. A named statement is parsed (and, once PostgreSQL settles on a
 * generic plan, planned) once per connection instead of on every call; `pg` remembers per
 * connection which names it has sent. Texts are built from a bounded set of fragments (filters
 * and sorts present or not), but past `MAX_NAMED` distinct texts the rest run unnamed, so that
 * no connection holds an unbounded number of statements.
 */
const names = new Map<string, string>();
const MAX_NAMED = 500;
let generation = 0;

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) names.set(text, (name = `lead_${++generation}`));
  return name;
}

/**
 * SQLSTATEs of a named statement the server no longer holds as `pg` thinks: 0A000 (a schema
 * change altered its result's columns: "cached plan must not change result type") and 26000
 * (the session lost it, e.g. to `DISCARD ALL`). The text then gets a fresh name, which every
 * connection parses anew; the old one is left to its connection (at most one per such event).
 */
const STALE_STATEMENT = new Set(['0A000', '26000']);

function isStaleStatement(error: unknown, name: string | undefined): boolean {
  const sqlState = error instanceof Error ? sqlStateOf(error) : undefined;
  return name !== undefined && sqlState !== undefined && STALE_STATEMENT.has(sqlState);
}

const renamed = (text: string, name: string) => {
  if (names.get(text) === name) names.set(text, `lead_${++generation}`);
};

type PgResult = { rows: unknown[] } | Array<{ rows: unknown[] }>;

/** The protocol messages `pg`'s Query writes (its `prepare`, not in its type declarations). */
interface ProtocolWriter {
  parse(message: { text: string; name: string; types: unknown[] }): void;
  bind(message: object): void;
  execute(message: object): void;
}
const QueryBase = pg.Query as unknown as new (
  config: pg.QueryConfig & { queryMode: 'extended' },
  callback: (error: Error | undefined, result: PgResult) => void,
) => { prepare(connection: ProtocolWriter): void };

/**
 * A statement sent with `begin` ahead of it in the same write (extended protocol: Parse/Bind/
 * Execute of `begin`, then the statement and one Sync), so a transaction's first statement costs
 * one round trip instead of two. PostgreSQL answers both before the one ReadyForQuery; `pg`
 * collects them as two results, of which the statement's is the last.
 */
class BeginThen extends QueryBase {
  override prepare(connection: ProtocolWriter): void {
    connection.parse({ text: 'begin', name: '', types: [] });
    connection.bind({});
    connection.execute({});
    super.prepare(connection);
  }
}

const beginThen = (connection: PgConnection, config: pg.QueryConfig) =>
  new Promise<PgResult>((resolve, reject) => {
    void connection.query(
      new BeginThen({ ...config, queryMode: 'extended' }, (error, result) => (error ? reject(error) : resolve(result))),
    );
  });

const rowsOf = (result: PgResult) => (Array.isArray(result) ? result[result.length - 1]!.rows : result.rows);

/**
 * The ORM's connections leave timestamps as text for its own hydration; these statements read
 * them with `pg`'s standard parsers instead (a `timestamptz` becomes a `Date`). A statement with
 * parameters runs as a named prepared statement (see `names`); one the server no longer holds
 * is renamed and, outside a transaction, sent again once.
 */
async function run(connection: PgConnection, text: string, values?: readonly unknown[], opts: { begin?: boolean; inTx?: boolean } = {}) {
  const name = values?.length ? nameOf(text) : undefined;
  const config = { text, name, values: values as unknown[] | undefined, types: pg.types };
  try {
    return rowsOf(await (opts.begin ? beginThen(connection, config) : connection.query(config)));
  } catch (error) {
    if (!isStaleStatement(error, name)) throw classified(error);
    renamed(text, name!);
    if (opts.inTx || opts.begin) throw new StaleStatementError({ cause: error });
    try {
      return rowsOf(await connection.query({ ...config, name: names.get(text) }));
    } catch (again) {
      throw classified(again);
    }
  }
}

/** A transaction's statement met a statement the server no longer held: the transaction is run again. */
class StaleStatementError extends Error {
  constructor(options: { cause: unknown }) {
    super('a prepared statement went stale under a transaction', options);
  }
}

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
  private readonly commitListeners: Array<() => void> = [];

  private constructor(private readonly pool: ConnectionPool) {}

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
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * `begin` goes out with the transaction's first statement. A statement that went stale under
   * a schema change (see `run`) fails only that attempt: `work` is run once more, in a new
   * transaction, before the error is the caller's.
   */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    try {
      return await this.attempt(work);
    } catch (error) {
      if (!(error instanceof StaleStatementError)) throw error;
      return await this.attempt(work).catch((again: unknown) => {
        throw again instanceof StaleStatementError ? classified(again.cause) : again;
      });
    }
  }

  private async attempt<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const connection = await acquire(this.pool);
    let begun = false;
    const tx: Sql = {
      query: async <Row>(text: string, values?: readonly unknown[]) => {
        const first = !begun;
        begun = true;
        return (await run(connection, text, values, { begin: first, inTx: true })) as Row[];
      },
    };
    try {
      const result = await work(tx);
      if (begun) await run(connection, 'commit');
      for (const listener of this.commitListeners) listener();
      return result;
    } catch (error) {
      // A broken connection fails this too; the pool's validation then drops the connection.
      if (begun) await run(connection, 'rollback').catch(() => {});
      throw error;
    } finally {
      await this.pool.releaseConnection(connection);
    }
  }
}
