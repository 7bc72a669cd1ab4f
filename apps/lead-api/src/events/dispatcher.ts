import { Database, OutboxRepository, type ClaimedEvent, type MikroORM } from '@lead/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Env } from '../env.js';
import { deliver, type DeliveryOptions } from './delivery.js';

export interface DispatcherConfig extends DeliveryOptions {
  pollIntervalMs: number;
  batchSize: number;
  /** How long a claimed event is reserved for its dispatcher; longer than a delivery's timeout. */
  leaseMs: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** Retrying stops (the event is dead) this long after the first attempt. */
  maxAgeMs: number;
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

  constructor(
    private readonly orm: MikroORM,
    private readonly config: DispatcherConfig,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    if (this.loop) return;
    // Events written (or retried) by this instance go out at once instead of at the next poll.
    Database.of(this.orm).onCommit(() => this.wake());
    this.loop = this.run();
  }

  /** Ends polling; deliveries in flight finish (bounded by the timeout) and their outcome is recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
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
      if (claimed === 0)
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

  /** One claim, its deliveries in parallel (each of a different lead), and their outcomes. */
  private async dispatchBatch(): Promise<number> {
    const outbox = new OutboxRepository(Database.of(this.orm));
    const events = await outbox.claim(this.config.batchSize, this.config.leaseMs);
    await Promise.all(events.map((event) => this.dispatchOne(outbox, event)));
    return events.length;
  }

  private async dispatchOne(outbox: OutboxRepository, event: ClaimedEvent): Promise<void> {
    const facts = { eventId: event.eventId, eventType: event.eventType, attempt: event.attempts };
    try {
      const result = await deliver(event, this.config);
      if (result.outcome === 'delivered') {
        await outbox.markDelivered(event);
        this.log.debug({ ...facts, status: result.status }, 'event delivered');
        return;
      }
      if (result.outcome === 'refused') {
        await outbox.markFailed(event, { permanent: true, error: result.error });
        this.log.error({ ...facts, error: result.error }, 'event refused by the notification service: marked dead');
        return;
      }
      const retryInMs = Math.max(result.retryAfterMs ?? 0, backoffMs(event.attempts, this.config.retryBaseMs, this.config.retryMaxDelayMs));
      const state = await outbox.markFailed(event, { permanent: false, error: result.error, retryInMs, maxAgeMs: this.config.maxAgeMs });
      if (state === 'dead')
        this.log.error({ ...facts, error: result.error }, 'event undeliverable for the whole retry window: marked dead');
      else this.log.warn({ ...facts, error: result.error, retryInMs }, 'event delivery failed; will retry');
    } catch (error) {
      // The outcome could not be recorded: the lease runs out and the event is delivered again.
      this.log.error({ ...facts, err: error }, 'event outcome not recorded');
    }
  }
}
