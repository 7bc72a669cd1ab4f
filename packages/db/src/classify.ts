import { ConstraintViolationError, DatabaseUnavailableError, UniqueViolationError } from './errors.js';

/**
 * SQLSTATEs saying the server cannot be reached or will not serve right now: class 08
 * (connection exception), 53300 (too many connections), 57P01/57P02 (terminated by an
 * administrator, or by a crash of another backend), 57P03 (cannot connect now), and the bounds
 * every connection carries running out: 57014 (`statement_timeout`) and 55P03 (`lock_timeout`).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|53300|57P0[123]|57014|55P03)$/;

/** Socket errors (Node's `code`) of a server that is down, restarting or out of reach. */
const UNAVAILABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** `pg` reports a connection that closed under it with a plain Error and no code. */
const CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error)/;

/** A SQLSTATE: five digits or capital letters, e.g. `23505`, `57P01`. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of an error the server sent: `pg` puts it in `code`, beside the server's
 * `severity` (MikroORM's wrappers copy both); other drivers name it `sqlState`. Errors that never
 * reached a server have none (a refused socket's `code` is e.g. `ECONNREFUSED`, with no severity).
 */
export function sqlStateOf(error: Error): string | undefined {
  const { code, sqlState, severity } = error as { code?: unknown; sqlState?: unknown; severity?: unknown };
  if (typeof sqlState === 'string') return sqlState;
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string' ? code : undefined;
}

function unreachable(error: Error): boolean {
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) return UNAVAILABLE_SQLSTATE.test(sqlState);
  const { code } = error as { code?: unknown };
  return (
    (typeof code === 'string' && UNAVAILABLE_SOCKET.has(code)) ||
    CONNECTION_LOST.test(error.message) ||
    // knex's pool, when no connection frees up in time.
    error.message.startsWith('Knex: Timeout acquiring a connection')
  );
}

/**
 * What a driver error means for the caller, decided here so that nothing above `packages/db`
 * reads pg's or knex's error shapes. The driver's error stays the `cause`.
 */
export function classified(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (unreachable(error)) return new DatabaseUnavailableError({ cause: error });
  const sqlState = sqlStateOf(error);
  if (sqlState === '23505') return new UniqueViolationError({ cause: error });
  if (sqlState?.startsWith('23')) return new ConstraintViolationError({ cause: error });
  return error;
}

/** Whether `error`, or an error it was caused by, says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DatabaseUnavailableError || unreachable(e)) return true;
  }
  return false;
}

/** Whether `error`, or an error it was caused by, carries one of `sqlStates`. */
function causedBySqlState(error: unknown, sqlStates: ReadonlySet<string>): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const sqlState = sqlStateOf(e);
    if (sqlState !== undefined && sqlStates.has(sqlState)) return true;
  }
  return false;
}

/**
 * Whether `error`, or an error it was caused by, is PostgreSQL aborting the transaction to settle
 * a conflict with another one: 40P01 (deadlock detected: e.g. two commits whose deferred triggers
 * update the same report sums in another order) or 40001 (serialization failure). The other
 * transaction went on; running this one again is what PostgreSQL asks of the client.
 */
const CONFLICT_SQLSTATES = new Set(['40P01', '40001']);
export const isTransactionConflict = (error: unknown): boolean => causedBySqlState(error, CONFLICT_SQLSTATES);

/**
 * Whether `error`, or an error it was caused by, is a lock another transaction holds, refused
 * at once (55P03: `for update nowait`, `lead.advisory_xact_lock_nowait`), or waited for
 * past `lock_timeout`.
 */
const LOCK_NOT_AVAILABLE = new Set(['55P03']);
export const isLockNotAvailable = (error: unknown): boolean => causedBySqlState(error, LOCK_NOT_AVAILABLE);

/**
 * Whether `error`, or an error it was caused by, is a statement PostgreSQL cancelled (57014:
 * `statement_timeout`, or a cancel request): what it did is rolled back, and a smaller piece of
 * the same work may fit.
 */
const CANCELLED = new Set(['57014']);
export const isStatementCancelled = (error: unknown): boolean => causedBySqlState(error, CANCELLED);
