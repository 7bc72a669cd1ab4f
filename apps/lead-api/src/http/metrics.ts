import type { Metrics } from '../ops/metrics.js';

/**
 * The counters the request context bumps (`counters.honeypotCaught += 1`), kept as that small
 * interface; the figures live in the Prometheus registry of `ops/metrics.ts`.
 */
export class Counters {
  private caught = 0;

  constructor(private readonly metrics?: Metrics) {}

  get honeypotCaught(): number {
    return this.caught;
  }

  set honeypotCaught(value: number) {
    for (; this.caught < value; this.caught++) this.metrics?.honeypotCaught();
  }
}
