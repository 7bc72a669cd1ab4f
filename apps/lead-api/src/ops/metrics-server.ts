import { createServer, type Server } from 'node:http';
import { documents } from '@lead/contracts';
import type { Metrics } from './metrics.js';

/** `/metrics` on a port of its own (`METRICS_PORT`), e.g. reachable only from the scraper's network. */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?', 1)[0] !== documents.metrics.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    metrics
      .render()
      .then((body) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(body))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
