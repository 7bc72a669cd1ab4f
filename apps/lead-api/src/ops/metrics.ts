import { Database, OutboxRepository, type Folded, type MikroORM } from '@lead/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type CreateOutcome = 'stored' | 'replayed' | 'honeypot' | 'rate_limited' | 'invalid' | 'failed';
export type DeliveryOutcome = 'delivered' | 'retry' | 'refused' | 'dead' | 'shutdown';

/** What the dispatcher reports, so that delivery attempts are counted without it knowing prom-client. */
export interface DeliveryObserver {
  attempted(outcome: DeliveryOutcome): void;
}

/** What the fold job reports (ops/fold.ts): how much one fold did and how long it took, or that it failed. */
export interface FoldObserver {
  folded(counted: Folded | 'failed', seconds: number): void;
}

/**
 * The one place that names a request's operation in metrics and traces: the procedure its
 * resolved target reaches (`leads.create`, over REST or tRPC), a batch of several
 * (`trpc.batch`), or the document it asks for (`/metrics`, `/docs`). Never the raw URL: ids,
 * query strings and paths a scanner makes up would each become a series. A request the gate
 * refused is `unmatched`.
 */
export function operationLabel(req: FastifyRequest): string {
  const { target } = req;
  if (!target) return 'unmatched';
  if (target.kind === 'document') return target.document.path;
  return target.calls.length === 1 ? target.calls[0]!.path : 'trpc.batch';
}

const honeypotRequests = new WeakSet<FastifyRequest>();

/** Marks a request whose submission the honeypot caught, so its 201 is counted as such. */
export function markHoneypot(req: FastifyRequest): void {
  honeypotRequests.add(req);
}

/** How a finished create request is counted. */
function createOutcome(req: FastifyRequest, reply: FastifyReply): CreateOutcome {
  const status = reply.statusCode;
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'failed';
  if (status >= 400) return 'invalid';
  if (honeypotRequests.has(req)) return 'honeypot';
  return reply.getHeader('idempotent-replayed') === 'true' ? 'replayed' : 'stored';
}

interface PoolState {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

/** A scrape asks the database at most this long for the outbox backlog; otherwise the last figures stay. */
const BACKLOG_TIMEOUT_MS = 2_000;

/**
 * The service's Prometheus metrics, on a registry of its own (one per server, so tests can run
 * several in a process). Every label has a bounded set of values: operations, statuses and
 * outcomes, never ids, addresses or text.
 */
export class Metrics implements DeliveryObserver, FoldObserver {
  readonly registry = new Registry();

  private readonly requests = new Histogram({
    name: 'lead_http_request_duration_seconds',
    help: 'Time from a request arriving to its response being sent, by operation and status.',
    labelNames: ['operation', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly creates = new Counter({
    name: 'lead_creates_total',
    help: 'Lead submissions by outcome: stored, replayed (Idempotency-Key), honeypot, rate_limited, invalid, failed.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly honeypot = new Counter({
    name: 'lead_honeypot_caught_total',
    help: 'Submissions that filled the honeypot field: answered as created, nothing stored.',
    registers: [this.registry],
  });

  private readonly deliveries = new Counter({
    name: 'lead_event_delivery_attempts_total',
    help: 'Attempts to deliver an outbox event, by outcome: delivered, retry, refused (dead at once), dead (retry window over), shutdown.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly folds = new Histogram({
    name: 'lead_fold_duration_seconds',
    help: 'Time one fold of the count and stage changes took, by outcome: done, skipped (another instance was folding), failed.',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  private readonly foldedChanges = new Counter({
    name: 'lead_folded_total',
    help: "What folds applied: count changes moved into the counts (counts), leads whose stage rows were recomputed (leads), pages of the search index's pending list merged into it (search_pages).",
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(sources: { orm: MikroORM; redis?: Redis; processMetrics?: boolean }) {
    const { orm, redis } = sources;
    if (sources.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'lead_' });

    const pool = () => (orm.em.getConnection().getKnex().client as { pool?: PoolState }).pool;
    new Gauge({
      name: 'lead_db_pool_connections',
      help: 'Database pool connections by state: in_use, idle, pending_create.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const p = pool();
        this.set({ state: 'in_use' }, p?.numUsed() ?? 0);
        this.set({ state: 'idle' }, p?.numFree() ?? 0);
        this.set({ state: 'pending_create' }, p?.numPendingCreates() ?? 0);
      },
    });
    new Gauge({
      name: 'lead_db_pool_waiting',
      help: 'Callers waiting for a database pool connection.',
      registers: [this.registry],
      collect() {
        this.set(pool()?.numPendingAcquires() ?? 0);
      },
    });
    new Gauge({
      name: 'lead_rate_limit_store',
      help: 'Where rate limits are counted right now: 1 for the store in use (redis, or memory when Redis is absent or unreachable).',
      labelNames: ['store'] as const,
      registers: [this.registry],
      collect() {
        const inRedis = redis?.status === 'ready';
        this.set({ store: 'redis' }, inRedis ? 1 : 0);
        this.set({ store: 'memory' }, inRedis ? 0 : 1);
      },
    });

    const events = new Gauge({
      name: 'lead_outbox_events',
      help: 'Outbox events not delivered, by state: pending (waiting or retrying) and dead (given up).',
      labelNames: ['state'] as const,
      registers: [this.registry],
    });
    const oldest = new Gauge({
      name: 'lead_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest pending outbox event (0 when none): the number to alert on.',
      registers: [this.registry],
    });
    // One query for both gauges, on each scrape; a database that does not answer in time leaves the last figures.
    let backlog: Promise<void> | undefined;
    const refresh = () =>
      (backlog ??= Promise.race([
        new OutboxRepository(Database.of(orm)).backlog().then((b) => {
          events.set({ state: 'pending' }, b.pending);
          events.set({ state: 'dead' }, b.dead);
          oldest.set(b.oldestPendingAgeSeconds ?? 0);
        }),
        new Promise<void>((resolve) => setTimeout(resolve, BACKLOG_TIMEOUT_MS).unref()),
      ])
        .catch(() => {})
        .finally(() => (backlog = undefined)));
    this.beforeScrape = refresh;
  }

  private readonly beforeScrape: () => Promise<void>;

  async render(): Promise<string> {
    await this.beforeScrape();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** `onResponse`: the request's duration, and for creates their outcome. */
  observe(req: FastifyRequest, reply: FastifyReply): void {
    const operation = operationLabel(req);
    this.requests.observe({ operation, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const creates = req.method === 'POST' ? (req.policy?.createCalls ?? 0) : 0;
    if (creates > 0) this.creates.inc({ outcome: createOutcome(req, reply) }, creates);
  }

  honeypotCaught(): void {
    this.honeypot.inc();
  }

  attempted(outcome: DeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }

  folded(counted: Folded | 'failed', seconds: number): void {
    if (counted === 'failed') return this.folds.observe({ outcome: 'failed' }, seconds);
    // -1: another instance held that fold's lock.
    this.folds.observe({ outcome: counted.leads < 0 || counted.counts < 0 ? 'skipped' : 'done' }, seconds);
    if (counted.counts > 0) this.foldedChanges.inc({ kind: 'counts' }, counted.counts);
    if (counted.leads > 0) this.foldedChanges.inc({ kind: 'leads' }, counted.leads);
    if (counted.searchPages > 0) this.foldedChanges.inc({ kind: 'search_pages' }, counted.searchPages);
  }
}
