import type { Database } from '@lead/db';
import type { Lifecycle } from './lifecycle.js';
import type { Readiness } from './readiness.js';

/** What the probe procedures read besides the request context. */
export interface Operations {
  lifecycle: Lifecycle;
  readiness: Readiness;
}

/**
 * Keyed by the service's one `Database` (one per ORM, see `Database.of`), which every procedure
 * already finds in its context: the probes reach the lifecycle without widening that context.
 */
const operations = new WeakMap<Database, Operations>();

export function attachOperations(db: Database, ops: Operations): void {
  operations.set(db, ops);
}

export function operationsOf(db: Database): Operations {
  const ops = operations.get(db);
  if (!ops) throw new Error('no operations attached to this database');
  return ops;
}
