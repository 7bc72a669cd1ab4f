import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export interface CorsOrigins {
  /** Origins that may call the contracts whose policy is `cors: 'public'` (the website). */
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

const allows = (list: string[], origin: string) => list.includes('*') || list.includes(origin);

/**
 * CORS from the policy of the request's resolved target (its contract's `cors`): a public one
 * answers the website origins (and the CMS's), everything else only the CMS origins. Any other
 * origin gets no CORS headers, so browsers refuse to let its pages read the answer, and its
 * preflights fail. Registered after the target is resolved.
 */
export async function registerCors(app: FastifyInstance, origins: CorsOrigins): Promise<void> {
  await app.register(cors, {
    // Before the other hooks, so refusals from later hooks (rate limits, auth) stay readable.
    hook: 'onRequest',
    delegator: (req, callback) => {
      const origin = req.headers.origin;
      const isPublic = req.policy?.cors === 'public';
      const allowed = origin !== undefined && (allows(origins.admin, origin) || (isPublic && allows(origins.public, origin)));
      callback(null, {
        origin: allowed ? origin : false,
        methods: req.policy?.methods ?? [],
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      });
    },
  });
}
