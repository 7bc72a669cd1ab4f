import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventDispatcher, type DispatcherConfig } from '../../src/events/dispatcher.js';
import type { DeliveryObserver } from '../../src/ops/metrics.js';
import type { TestApp } from './app.js';

export interface Received {
  id: string;
  type: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: Record<string, unknown>;
  at: number;
}

/** What the receiver answers: a status (with headers), or `hold` to never answer. */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'hold';

export interface Receiver {
  url: string;
  /** Every request, answered or not, in arrival order. */
  requests: Received[];
  /** Requests answered 2xx, in arrival order. */
  accepted: Received[];
  /** Times each event id was answered 2xx. */
  acceptedCount(id: string): number;
  answer(fn: (req: Received) => Answer): void;
  /** Stops listening (the service then gets ECONNREFUSED) until `up()`, on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A notification service on loopback, port 0: a real HTTP server, not a mock of one. */
export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const accepted: Received[] = [];
  const counts = new Map<string, number>();
  const held = new Set<ServerResponse>();
  let decide: (req: Received) => Answer = () => 200;

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const received: Received = {
        id: String(req.headers['x-event-id']),
        type: String(req.headers['x-event-type']),
        headers: req.headers,
        rawBody: raw,
        body: JSON.parse(raw) as Record<string, unknown>,
        at: Date.now(),
      };
      requests.push(received);
      const answer = decide(received);
      if (answer === 'hold') {
        held.add(res);
        return;
      }
      const { status, headers = {} } = typeof answer === 'number' ? { status: answer } : answer;
      if (status >= 200 && status < 300) {
        accepted.push(received);
        counts.set(received.id, (counts.get(received.id) ?? 0) + 1);
      }
      res.writeHead(status, headers).end();
    });
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const { port } = server.address() as AddressInfo;

  const stop = async () => {
    for (const res of held) res.destroy();
    held.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    url: `http://127.0.0.1:${port}/events`,
    requests,
    accepted,
    acceptedCount: (id) => counts.get(id) ?? 0,
    answer: (fn) => void (decide = fn),
    down: stop,
    up: () => listen(port),
    close: async () => {
      if (server.listening) await stop();
    },
  };
}

export const FAST_DELIVERY = {
  timeoutMs: 1_000,
  pollIntervalMs: 50,
  batchSize: 20,
  leaseMs: 3_000,
  retryBaseMs: 20,
  retryMaxDelayMs: 200,
  maxAgeMs: 60_000,
} satisfies Omit<DispatcherConfig, 'url'>;

/** A dispatcher in the test process on the test app's database, with retries in milliseconds. */
export function startDispatcher(
  app: TestApp,
  config: Partial<DispatcherConfig> & { url: string },
  observer?: DeliveryObserver,
): EventDispatcher {
  const dispatcher = new EventDispatcher(app.orm, { ...FAST_DELIVERY, ...config }, app.app.log.child({ component: 'events' }), observer);
  dispatcher.start();
  return dispatcher;
}
