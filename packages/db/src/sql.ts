import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import parseDate from 'postgres-date';
import { classified, isLockNotAvailable, isTransactionConflict, sqlStateOf } from './classify.js';
import { DatabaseUnavailableError } from './errors.js';

const databases = new WeakMap<MikroORM, Database>();

/** Something SQL runs on: the pool, or the one connection of a transaction. */
export interface Sql {
  /** Runs one statement with `$1…` parameters sent apart from its text; resolves with its rows. */
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs a statement whose rows the caller does not need (an insert or update without `returning`,
   * a lock's `select`). In a transaction it resolves at once and goes out with the transaction's next
   * statement or its commit, in the same write; if it fails, that statement or the commit fails
   * with its error (passed through `wrapError` first), and the transaction is rolled back. On
   * the pool it is a plain `query`.
   */
  send(text: string, values?: readonly unknown[], wrapError?: (error: unknown) => unknown): Promise<void>;
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
  if (name !== undefined) return name;
  // The sync feed's statement reads the snapshot's horizon (`pg_current_snapshot()`): as a named
  // statement its horizon came out behind transactions that had committed (workday.test.ts's
  // late-commit case fails), so it is parsed and planned afresh each time, as before.
  if (text.includes('pg_current_snapshot')) return undefined;
  if (names.size < MAX_NAMED) names.set(text, (name = `lead_${++generation}`));
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
  /** Names `pg` has parsed on this connection, and their texts. */
  parsedStatements: Record<string, string>;
  parse(message: { text: string; name: string; types: unknown[] }): void;
  bind(message: { statement: string; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  execute(message: object): void;
  describe(message: { type: 'P'; name: string }): void;
  sync(): void;
}
/** A column of a RowDescription, as `pg` parses it. */
type Field = object;
const QueryBase = pg.Query as unknown as new (
  config: pg.QueryConfig & { queryMode: 'extended' },
  callback: (error: Error | undefined, result: PgResult) => void,
) => {
  readonly name: string | undefined;
  readonly text: string;
  readonly values: unknown[];
  handleRowDescription(message: { fields: Field[] }): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: ProtocolWriter): void;
  handleError(error: unknown, connection: ProtocolWriter): void;
};
/** How `pg` turns a parameter into its wire text (Dates, arrays, JSON), for the statements sent ahead. */
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils.prepareValue;

/**
 * The columns each named statement's rows have, by connection and name, once PostgreSQL has
 * described them there. A statement's result columns cannot change under its name: a schema
 * change that would change them fails the statement (0A000), which renames it, and a statement
 * parsed again is described again.
 */
const descriptions = new WeakMap<ProtocolWriter, Map<string, Field[]>>();

function descriptionsOf(connection: ProtocolWriter): Map<string, Field[]> {
  let known = descriptions.get(connection);
  if (!known) descriptions.set(connection, (known = new Map<string, Field[]>()));
  return known;
}

/** A statement sent ahead of another in the same write: `begin`, or a transaction's `send`. */
interface Ahead {
  /** Whether its rows are read (it is described, so that `pg` can parse them). */
  rows?: boolean;
  text: string;
  values: unknown[];
  name: string | undefined;
  wrapError?: ((error: unknown) => unknown) | undefined;
}

/**
 * Statements in one write (extended protocol: Parse/Bind/Execute of each, then one Sync), so
 * that `begin`, and the statements of a transaction whose rows nobody reads, cost no round trip
 * of their own: the ones `ahead`, then this one. PostgreSQL answers all before the one
 * ReadyForQuery, and skips the rest after an error; `pg` collects the answers as several
 * results, of which this statement's is the last. The commands completed before an error tell
 * which statement failed.
 *
 * A named statement already described on the connection (`descriptions`) is not described
 * again: its columns are handed to `pg` as if PostgreSQL had sent them, before its first row or
 * its completion. `pg` itself describes every statement on every call, which cost the server a
 * RowDescription per statement to build, send and parse (about 2 % of a read's CPU, and a tenth
 * of what a read allocates, bench/README.md "Session 13").
 */
class Pipelined extends QueryBase {
  completed = 0;

  constructor(
    config: pg.QueryConfig,
    readonly ahead: readonly Ahead[],
    callback: (error: Error | undefined, result: PgResult) => void,
  ) {
    super({ ...config, queryMode: 'extended' }, callback);
  }

  private connection: ProtocolWriter | undefined;
  /** Names parsed by this write, by position (the last is this statement's). */
  private readonly parsing: Array<string | undefined> = [];
  /** By position: the name under which its description is to be kept, until it comes. */
  private readonly describing: Array<string | undefined> = [];
  /** By position: the known columns `pg` is still to be given, for a statement not described again. */
  private readonly known: Array<Field[] | undefined> = [];

  /** Parse (unless the connection holds it), Bind, Describe (unless known) and Execute of one statement. */
  private write(connection: ProtocolWriter, statement: Ahead): void {
    const name = statement.name ?? '';
    const parse = !name || connection.parsedStatements[name] !== statement.text;
    if (parse) {
      connection.parse({ text: statement.text, name, types: [] });
      // pg records a name when a Parse completes, and only its own statement's: these are
      // recorded here, and forgotten again if the server skipped them (`forgetSkipped`).
      if (name) connection.parsedStatements[name] = statement.text;
    }
    this.parsing.push(parse && name ? name : undefined);
    connection.bind({ statement: name, values: statement.values, valueMapper: prepareValue });
    const known = statement.rows && name && !parse ? descriptionsOf(connection).get(name) : undefined;
    this.known.push(known);
    this.describing.push(statement.rows && !known ? name : undefined);
    if (statement.rows && !known) connection.describe({ type: 'P', name: '' });
    connection.execute({});
  }

  prepare(connection: ProtocolWriter): void {
    this.connection = connection;
    for (const statement of this.ahead) this.write(connection, statement);
    try {
      this.write(connection, { text: this.text, values: this.values, name: this.name, rows: true });
    } catch (error) {
      // A value pg cannot send (its `prepareValue` threw): failed as pg's own `prepare` does.
      this.handleError(error, connection);
      return;
    }
    connection.sync();
  }

  /** Hands `pg` the known columns of the statement whose answers now arrive, once. */
  private supplyKnown(): void {
    const known = this.known[this.completed];
    if (!known) return;
    this.known[this.completed] = undefined;
    // A statement without rows (known as none) was answered without a RowDescription: pg got none.
    if (known.length) super.handleRowDescription({ fields: known });
  }

  override handleRowDescription(message: { fields: Field[] }): void {
    const name = this.describing[this.completed];
    this.describing[this.completed] = undefined;
    if (name && this.connection) descriptionsOf(this.connection).set(name, message.fields);
    super.handleRowDescription(message);
  }

  override handleDataRow(message: unknown): void {
    this.supplyKnown();
    super.handleDataRow(message);
  }

  /**
   * After an error the server skips everything up to Sync: the names of the statements after the
   * failed one were never parsed. (The failed one's may or may not be; if not, its next use
   * answers 26000 and it is renamed.)
   */
  forgetSkipped(): void {
    for (const name of this.parsing.slice(this.completed + 1)) {
      if (!name) continue;
      delete this.connection?.parsedStatements[name];
      if (this.connection) descriptionsOf(this.connection).delete(name);
    }
  }

  override handleCommandComplete(message: unknown, connection: ProtocolWriter): void {
    this.supplyKnown();
    // Described, and completed without a RowDescription (NoData): a statement without rows.
    const name = this.describing[this.completed];
    if (name) descriptionsOf(connection).set(name, []);
    this.completed++;
    super.handleCommandComplete(message, connection);
  }
}

const rowsOf = (result: PgResult) => (Array.isArray(result) ? result[result.length - 1]!.rows : result.rows);

/** The OIDs of `date`, `timestamp` and `timestamptz`. */
const DATE_TYPES = new Set([1082, 1114, 1184]);

/**
 * `pg`'s type parsers, with dates and timestamps read by postgres-date 2, which scans them: the
 * parser pg-types registers for them is postgres-date 1's, two regular expressions per value (a
 * list page's timestamps were 4 % of its server CPU and a tenth of what it allocated,
 * bench/README.md "Session 13"). The same values result (`test/type-parsers.test.ts`).
 */
export const typeParsers = {
  getTypeParser: (oid: number, format: 'text' | 'binary' = 'text'): ((value: string) => unknown) =>
    format === 'text' && DATE_TYPES.has(oid) ? parseDate : (pg.types.getTypeParser(oid, format) as (value: string) => unknown),
};

/** A statement's name and values as sent: with parameters it runs as a named prepared statement (see `names`). */
const statement = (text: string, values?: readonly unknown[], wrapError?: (error: unknown) => unknown, rows?: boolean): Ahead => ({
  text,
  values: (values ?? []) as unknown[],
  name: values?.length ? nameOf(text) : undefined,
  wrapError,
  rows,
});

/** A statement of a transaction failed: which one, with the error as its caller should see it. */
function failureOf(error: unknown, main: Ahead, ahead: readonly Ahead[], completed: number): unknown {
  const failed = completed < ahead.length ? ahead[completed]! : main;
  if (isStaleStatement(error, failed.name)) {
    renamed(failed.text, failed.name!);
    return new StaleStatementError({ cause: error });
  }
  const mapped = classified(error);
  return failed.wrapError ? failed.wrapError(mapped) : mapped;
}

/**
 * The ORM's connections leave timestamps as text for its own hydration; these statements read
 * them with `typeParsers` instead (a `timestamptz` becomes a `Date`). One the server
 * no longer holds as a prepared statement is renamed and sent again once.
 */
async function run(connection: PgConnection, text: string, values?: readonly unknown[]): Promise<unknown[]> {
  const main = statement(text, values);
  const config = { text, name: main.name, values: main.values, types: typeParsers };
  try {
    return rowsOf(await connection.query(config));
  } catch (error) {
    if (!isStaleStatement(error, main.name)) throw classified(error);
    renamed(text, main.name!);
    try {
      return rowsOf(await connection.query({ ...config, name: names.get(text) }));
    } catch (again) {
      throw classified(again);
    }
  }
}

/** Runs `main` on a connection with the statements `ahead` of it in the same write; resolves with every statement's rows. */
async function runAfter(connection: PgConnection, main: Ahead, ahead: readonly Ahead[]): Promise<unknown[][]> {
  const config = { text: main.text, name: main.name, values: main.values, types: typeParsers };
  const all = (result: PgResult) => (Array.isArray(result) ? result : [result]).map((r) => r.rows);
  let query: Pipelined | undefined;
  try {
    const result = await new Promise<PgResult>((resolve, reject) => {
      query = new Pipelined(config, ahead, (error, result) => (error ? reject(error) : resolve(result)));
      void connection.query(query);
    });
    return all(result);
  } catch (error) {
    query?.forgetSkipped();
    throw failureOf(error, main, ahead, query?.completed ?? 0);
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

/**
 * A statement of `Database.batch`. `genericPlan`: PostgreSQL plans a named statement for the
 * values of each call (a custom plan) until it finds a plan for its text alone (generic) no
 * dearer, and it never does for a `limit $n` (it costs a parameter's limit as a tenth of the
 * rows): a list page was planned afresh on every call, and planning cost more than running it.
 * Marked, it runs with `plan_cache_mode = force_generic_plan`, set just for it (the setting
 * goes back with the batch's transaction if the batch fails). Only for a statement whose plan
 * does not depend on its values: the caller must know its generic plan is the right one.
 */
export interface BatchStatement {
  text: string;
  values?: readonly unknown[];
  wrapError?: (error: unknown) => unknown;
  genericPlan?: boolean;
}
const GENERIC_PLAN: BatchStatement = { text: 'set plan_cache_mode = force_generic_plan' };
const CACHED_PLAN: BatchStatement = { text: 'reset plan_cache_mode' };

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

  /**
   * Runs `statements` on one connection in one write and one round trip, as one implicit
   * transaction: all of them or none (a failing one fails the call, with its `wrapError`).
   * Resolves with each statement's rows, in order. For the reads of one answer and the audit row
   * that must be written before it is served. A statement marked `genericPlan` runs on the
   * plan PostgreSQL makes for its text once per connection, never on one planned for its values
   * (see `BatchStatement`).
   */
  async batch(statements: readonly BatchStatement[]): Promise<unknown[][]> {
    const sent: BatchStatement[] = [];
    for (const s of statements) {
      if (s.genericPlan) sent.push(GENERIC_PLAN, s, CACHED_PLAN);
      else sent.push(s);
    }
    const all = sent.map((s) => statement(s.text, s.values, s.wrapError, true));
    const connection = await acquire(this.pool);
    try {
      const results = await runAfter(connection, all[all.length - 1]!, all.slice(0, -1)).catch(async (error: unknown) => {
        // A stale statement: renamed by now; the whole batch once more.
        if (!(error instanceof StaleStatementError)) throw error;
        return runAfter(
          connection,
          { ...all[all.length - 1]!, name: names.get(all[all.length - 1]!.text) },
          all.slice(0, -1).map((s) => ({ ...s, name: s.name && names.get(s.text) })),
        ).catch((again: unknown) => {
          throw again instanceof StaleStatementError ? classified(again.cause) : again;
        });
      });
      return sent.length === statements.length ? results : results.filter((_, i) => sent[i] !== GENERIC_PLAN && sent[i] !== CACHED_PLAN);
    } finally {
      await this.pool.releaseConnection(connection);
    }
  }

  /**
   * A change whose statements are all known before any of them answers (its conditions are in
   * its SQL): run as `batch` (one write, one round trip, all or nothing), then the commit
   * listeners are woken as after `transaction`. A deadlock or serialization failure is tried
   * once more, as a transaction is. `statements` must take their locks `nowait` (failing with
   * 55P03, `isLockNotAvailable`): the commit goes out with them, so a client gone while one
   * waited would find the change made after all. When a lock is taken, `waiting` (the same
   * statements, waiting for their locks) runs as a `transaction`, one statement after another,
   * whose commit is sent only once its locks are held. Resolves with each statement's rows.
   */
  async change(statements: readonly BatchStatement[], waiting: readonly BatchStatement[]): Promise<unknown[][]> {
    let results: unknown[][];
    try {
      results = await this.batch(statements).catch((error: unknown) => {
        if (!isTransactionConflict(error)) throw error;
        return this.batch(statements).catch((again: unknown) => {
          throw isTransactionConflict(again) ? new DatabaseUnavailableError({ cause: again }) : again;
        });
      });
    } catch (error) {
      if (!isLockNotAvailable(error)) throw error;
      return this.transaction(async (tx) => {
        const all: unknown[][] = [];
        for (const s of waiting) {
          try {
            all.push(await tx.query(s.text, s.values));
          } catch (error) {
            throw s.wrapError ? s.wrapError(error) : error;
          }
        }
        return all;
      });
    }
    for (const listener of this.commitListeners) listener();
    return results;
  }

  async send(text: string, values?: readonly unknown[], wrapError?: (error: unknown) => unknown): Promise<void> {
    try {
      await this.query(text, values);
    } catch (error) {
      throw wrapError ? wrapError(error) : error;
    }
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

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * `begin` goes out with the transaction's first statement. A statement that went stale under
   * a schema change (see `run`), or a deadlock or serialization failure PostgreSQL settled by
   * aborting this transaction, fails only that attempt: `work` is run once more, in a new
   * transaction, before the error is the caller's (a second conflict as
   * `DatabaseUnavailableError`: 503, try again).
   */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    try {
      return await this.attempt(work);
    } catch (error) {
      if (!(error instanceof StaleStatementError) && !isTransactionConflict(error)) throw error;
      return await this.attempt(work).catch((again: unknown) => {
        if (again instanceof StaleStatementError) throw classified(again.cause);
        // Still in conflict after a second try: contention that passes, so "try again later".
        throw isTransactionConflict(again) ? new DatabaseUnavailableError({ cause: again }) : again;
      });
    }
  }

  private async attempt<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const connection = await acquire(this.pool);
    let begun = false;
    // `begin` (until the first statement goes) and the statements sent since the last one.
    let ahead: Ahead[] = [statement('begin')];
    const next = (main: Ahead) => {
      const sending = ahead;
      ahead = [];
      begun = true;
      return runAfter(connection, main, sending).then((results) => results[results.length - 1]!);
    };
    const tx: Sql = {
      query: async <Row>(text: string, values?: readonly unknown[]) => (await next(statement(text, values))) as Row[],
      send: (text, values, wrapError) => {
        // Described, so that a statement returning rows it does not need (a lock's `select`) can go too.
        ahead.push(statement(text, values, wrapError, true));
        return Promise.resolve();
      },
    };
    try {
      const result = await work(tx);
      if (begun || ahead.length > 1) await next(statement('commit'));
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
