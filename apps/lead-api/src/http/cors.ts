import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface CorsOrigins {
  /** Origins that may create leads from a browser (the website). */
  public: string[];
  /** Origins that may call every endpoint from a browser (the CMS). */
  admin: string[];
}

/** Headers the SDKs read from answers: rate limits, the request id to quote, idempotent replays. */
const EXPOSED_HEADERS = [
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'X-Request-Id',
  'Idempotent-Replayed',
];

/** The one operation anybody's website may call: creating a lead, over REST or tRPC. */
function isPublicCreate(req: FastifyRequest): boolean {
  const method = req.method === 'OPTIONS' ? req.headers['access-control-request-method'] : req.method;
  if (method !== 'POST') return false;
  const path = req.url.split('?', 1)[0] ?? '';
  if (path === '/api/v1/leads') return true;
  // A tRPC batch is public only when every call in it is.
  return (
    path.startsWith('/trpc/') &&
    path
      .slice('/trpc/'.length)
      .split(',')
      .every((p) => p === 'leads.create')
  );
}

const allows = (list: string[], origin: string) => list.includes('*') || list.includes(origin);

/**
 * CORS by endpoint: the public create answers the website origins (and the CMS's), everything
 * else only the CMS origins. Any other origin gets no CORS headers, so browsers refuse to let
 * its pages read the answer, and its preflights fail.
 */
export async function registerCors(app: FastifyInstance, origins: CorsOrigins): Promise<void> {
  await app.register(cors, {
    // Before any other hook, so refusals from later hooks (rate limits, auth) stay readable.
    hook: 'onRequest',
    delegator: (req, callback) => {
      const origin = req.headers.origin;
      const publicCreate = isPublicCreate(req);
      const allowed = origin !== undefined && (allows(origins.admin, origin) || (publicCreate && allows(origins.public, origin)));
      callback(null, {
        origin: allowed ? origin : false,
        methods: publicCreate ? ['POST'] : ['GET', 'POST', 'PATCH'],
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      });
    },
  });
}
