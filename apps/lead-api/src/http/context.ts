import { Database, type MikroORM } from '@lead/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth.js';
import type { Context } from '../procedures/context.js';
import type { Counters } from './metrics.js';
import type { RateLimit } from './rate-limit.js';

export interface ContextDeps {
  orm: MikroORM;
  auth: Authenticator;
  userRateLimit: RateLimit;
  counters: Counters;
  leads: Context['leads'];
  privacy: Context['privacy'];
  retention: Context['retention'];
}

/** The outer context: reads the HTTP request; everything below it sees only `Context`. */
export function contextFactory(deps: ContextDeps, surface: Context['surface']) {
  const db = Database.of(deps.orm);
  return ({ req, res }: { req: FastifyRequest; res: FastifyReply }): Context => ({
    db,
    auth: deps.auth,
    requestId: req.id,
    ip: req.clientAddress,
    userAgent: req.headers['user-agent'] ?? null,
    authorization: req.headers.authorization,
    surface,
    log: req.log,
    setHeader: (name, value) => void res.header(name, value),
    idempotencyKey: req.headers['idempotency-key'] as string | undefined,
    userRateLimit: deps.userRateLimit,
    leads: deps.leads,
    privacy: deps.privacy,
    retention: deps.retention,
    honeypotCaught: () => {
      deps.counters.honeypotCaught += 1;
      req.log.info({ honeypot: true }, 'honeypot field filled: answered as created, nothing stored');
    },
  });
}
