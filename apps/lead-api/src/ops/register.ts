import { documents } from '@lead/contracts';
import { Database, type MikroORM } from '@lead/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { Counters } from '../http/metrics.js';
import type { Context } from '../procedures/context.js';
import { Lifecycle } from './lifecycle.js';
import { markHoneypot, Metrics } from './metrics.js';
import { attachOperations } from './operations.js';
import { databaseReadiness, type Readiness } from './readiness.js';
import { traceRequests, tracingEnabled } from './tracing.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's Prometheus metrics (the dispatcher reports its deliveries to them). */
    metrics: Metrics;
  }
}

export interface OperationsDeps {
  orm: MikroORM;
  redis?: Redis;
  /** Shared with the shutdown sequence; a fresh one (never draining) by default. */
  lifecycle?: Lifecycle;
  /** By default a check on a connection of its own to the ORM's database, closed with the server. */
  readiness?: Readiness;
  env: { READY_TIMEOUT_MS?: number; METRICS_PORT?: number };
}

type ContextFactory = (opts: { req: FastifyRequest; res: FastifyReply }) => Context;

/**
 * What operators need from the server: `/metrics` (unless it has a port of its own), request
 * metrics and traces, and the state the probes read. Registered before the rate limits, so that
 * their Redis calls are traced under the request.
 */
export function registerOperations(app: FastifyInstance, deps: OperationsDeps) {
  const metrics = new Metrics({ orm: deps.orm, redis: deps.redis });
  app.decorate('metrics', metrics);
  if (tracingEnabled()) traceRequests(app);
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observe(req, reply);
    done();
  });
  if (deps.env.METRICS_PORT === undefined) {
    app.get(documents.metrics.path, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }

  const readiness =
    deps.readiness ?? databaseReadiness({ clientUrl: deps.orm.config.get('clientUrl') }, deps.env.READY_TIMEOUT_MS ?? 1_000);
  if (!deps.readiness) app.addHook('onClose', () => readiness.close());
  attachOperations(Database.of(deps.orm), { lifecycle: deps.lifecycle ?? new Lifecycle(), readiness });

  return {
    counters: new Counters(metrics),
    /** The request context, with the honeypot's catch also marked on the request (creates by outcome). */
    context(factory: ContextFactory): ContextFactory {
      return (opts) => {
        const ctx = factory(opts);
        const caught = ctx.honeypotCaught.bind(ctx);
        ctx.honeypotCaught = () => {
          markHoneypot(opts.req);
          caught();
        };
        return ctx;
      };
    },
  };
}
