import { Database, OutboxRepository, type ClaimedEvent, type MikroORM } from '@lead/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Env } from '../env.js';
import type { DeliveryObserver } from '../ops/metrics.js';
import { traceDelivery } from '../ops/tracing.js';
import { deliver, DeliveryAborted, type DeliveryOptions } from './delivery.js';

export interface DispatcherConfig extends DeliveryOptions {
  pollIntervalMs: number;
  batchSize: number;
  /** How long a claimed event is reserved for its dispatcher; longer than a delivery's timeout. */
  leaseMs: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** Retrying stops (the event is dead) this long after the first attempt. */
  maxAgeMs: number;
  /**
   * While deliveries fail, one backed-off event is brought forward this often to probe the
   * receiver; the first success brings every backed-off event forward (default 5000).
   */
  recoveryProbeMs?: number;
}

/** The dispatcher's settings, or null when there is nowhere to deliver to. */
export function dispatcherConfig(env: Env): DispatcherConfig | null {
  if (!env.NOTIFICATION_SERVICE_URL) return null;
  return {
    url: env.NOTIFICATION_SERVICE_URL,
    ...(env.NOTIFICATION_SIGNING_SECRET ? { signingSecret: env.NOTIFICATION_SIGNING_SECRET } : {}),
    timeoutMs: env.EVENT_DELIVERY_TIMEOUT_MS,
    pollIntervalMs: env.EVENT_POLL_INTERVAL_MS,
    batchSize: env.EVENT_BATCH_SIZE,
    leaseMs: env.EVENT_LEASE_MS,
    retryBaseMs: env.EVENT_RETRY_BASE_MS,
    retryMaxDelayMs: env.EVENT_RETRY_MAX_DELAY_MS,
    maxAgeMs: env.EVENT_RETRY_MAX_AGE_SECONDS * 1000,
    recoveryProbeMs: env.EVENT_RECOVERY_PROBE_MS,
  };
}

/** Exponential backoff with full jitter, so that many failed events do not come back all at once. */
export function backoffMs(attempt: number, baseMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * ceiling);
}

/**
 * Delivers the outbox to the notification service, at least once. Any number of instances may
 * run one: each claims its events under a lease in a short statement, POSTs them with no
 * transaction open, then records the outcome. If the process dies in between, the lease runs
 * out and any dispatcher (this one restarted, or another) delivers the event again.
 */
export class EventDispatcher {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Aborts deliveries in flight at the shutdown deadline, so that their leases are released. */
  private readonly abort = new AbortController();
  /**
   * Whether the last delivery failed in a way that says "later" (the receiver is down or busy);
   * cleared by the next success, which then brings forward every event that backed off meanwhile.
   */
  private failing = false;
  private lastProbe = 0;
  /** The latest time a receiver's Retry-After asked for: nothing is brought forward before it. */
  private holdUntil = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly config: DispatcherConfig,
    private readonly log: FastifyBaseLogger,
    private readonly observer?: DeliveryObserver,
  ) {}

  start(): void {
    if (this.loop) return;
    // Events written (or retried) by this instance go out at once instead of at the next poll.
    Database.of(this.orm).onCommit(() => this.wake());
    this.loop = this.run();
  }

  /**
   * Ends polling; deliveries in flight finish (bounded by the timeout) and their outcome is
   * recorded. Those still in flight after `graceMs` are aborted and released (due again at once,
   * for whichever dispatcher runs next) instead of holding their lease until it runs out.
   */
  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    this.wake();
    const timer = graceMs === undefined ? undefined : setTimeout(() => this.abort.abort(new DeliveryAborted()), graceMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(timer);
    }
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = await this.dispatchBatch();
        failures = 0;
      } catch (error) {
        failures++;
        this.log.error({ err: error }, 'event dispatch failed; will try again');
      }
      // After a batch, a lead's next event may have become due: look again at once.
      if (claimed === 0 && !(await this.probeReceiver().catch(() => false)))
        await this.sleep(failures ? Math.min(30_000, this.config.pollIntervalMs * 2 ** failures) : this.config.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private get probeEveryMs(): number {
    return this.config.recoveryProbeMs ?? 5_000;
  }

  /**
   * While deliveries are failing and nothing is due, makes one backed-off event due every
   * `recoveryProbeMs`: the receiver's return is noticed within that, not after the longest
   * backoff. Returns whether an event was made due.
   */
  private async probeReceiver(): Promise<boolean> {
    const now = Date.now();
    if (!this.failing || now - this.lastProbe < this.probeEveryMs || now < this.holdUntil) return false;
    this.lastProbe = now;
    return new OutboxRepository(Database.of(this.orm)).bringForwardNext();
  }

  /** The first success after failures: events that backed off during the outage are due now. */
  private async recovered(outbox: OutboxRepository): Promise<void> {
    if (!this.failing) return;
    this.failing = false;
    const moved = await outbox.bringForwardAll(new Date(this.holdUntil));
    if (moved) this.log.info({ events: moved }, 'notification service answering again: backed-off events brought forward');
  }

  /** One claim, its deliveries in parallel (each of a different lead), and their outcomes. */
  private async dispatchBatch(): Promise<number> {
    const outbox = new OutboxRepository(Database.of(this.orm));
    const events = await outbox.claim(this.config.batchSize, this.config.leaseMs);
    await Promise.all(events.map((event) => this.dispatchOne(outbox, event)));
    return events.length;
  }

  private dispatchOne(outbox: OutboxRepository, event: ClaimedEvent): Promise<void> {
    return traceDelivery(event, () => this.deliverOne(outbox, event));
  }

  private async deliverOne(outbox: OutboxRepository, event: ClaimedEvent): Promise<void> {
    const facts = { eventId: event.eventId, eventType: event.eventType, attempt: event.attempts };
    try {
      const result = await deliver(event, this.config, this.abort.signal);
      if (result.outcome === 'delivered') {
        await outbox.markDelivered(event);
        this.observer?.attempted('delivered');
        this.log.debug({ ...facts, status: result.status }, 'event delivered');
        await this.recovered(outbox);
        return;
      }
      if (result.outcome === 'refused') {
        await outbox.markFailed(event, { permanent: true, error: result.error });
        this.observer?.attempted('refused');
        this.log.error({ ...facts, error: result.error }, 'event refused by the notification service: marked dead');
        return;
      }
      if (result.error === 'shutdown') {
        // Released, due at once: the next dispatcher to run need not wait for the lease to run out.
        await outbox.markFailed(event, { permanent: false, error: result.error, retryInMs: 0, maxAgeMs: this.config.maxAgeMs });
        this.observer?.attempted('shutdown');
        this.log.warn(facts, 'event delivery cut short by shutdown: released');
        return;
      }
      this.failing = true;
      if (result.retryAfterMs) this.holdUntil = Math.max(this.holdUntil, Date.now() + result.retryAfterMs);
      const retryInMs = Math.max(result.retryAfterMs ?? 0, backoffMs(event.attempts, this.config.retryBaseMs, this.config.retryMaxDelayMs));
      const state = await outbox.markFailed(event, { permanent: false, error: result.error, retryInMs, maxAgeMs: this.config.maxAgeMs });
      this.observer?.attempted(state === 'dead' ? 'dead' : 'retry');
      if (state === 'dead')
        this.log.error({ ...facts, error: result.error }, 'event undeliverable for the whole retry window: marked dead');
      else this.log.warn({ ...facts, error: result.error, retryInMs }, 'event delivery failed; will retry');
    } catch (error) {
      // The outcome could not be recorded: the lease runs out and the event is delivered again.
      this.log.error({ ...facts, err: error }, 'event outcome not recorded');
    }
  }
}
