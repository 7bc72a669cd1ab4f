import { randomUUID } from 'node:crypto';
import { procedures } from '@lead/contracts';
import type { MikroORM } from '@lead/db';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { fastifyTRPCOpenApiPlugin } from 'trpc-to-openapi';
import type { Authenticator } from './auth.js';
import { contextFactory } from './http/context.js';
import { registerCors } from './http/cors.js';
import { createLimitHook } from './http/create-limit.js';
import { errorBody } from './http/error-body.js';
import { createRateLimit } from './http/rate-limit.js';
import { loggerOptions } from './logger.js';
import { docsRoutes } from './http/docs.js';
import type { Lifecycle } from './ops/lifecycle.js';
import type { Readiness } from './ops/readiness.js';
import { registerOperations } from './ops/register.js';
import { buildOpenApiDocument, OPENAPI_PATH, serializeOpenApiDocument } from './openapi.js';
import { appRouter, openApiRouter } from './router.js';
import { noteErrorOrigin, type Context } from './trpc.js';
import type { Env } from './env.js';

export interface ServerDeps {
  env: Pick<
    Env,
    | 'LOG_LEVEL'
    | 'BODY_LIMIT_BYTES'
    | 'TRUST_PROXY'
    | 'RATE_LIMIT_CREATE_PER_HOUR'
    | 'RATE_LIMIT_ADMIN_PER_MINUTE'
    | 'RATE_LIMIT_KEY_PREFIX'
  > &
    Partial<Pick<Env, 'CORS_ORIGINS' | 'CORS_ADMIN_ORIGINS' | 'READY_TIMEOUT_MS' | 'METRICS_PORT'>>;
  orm: MikroORM;
  auth: Authenticator;
  /** Where rate limits are counted, shared by all instances; in memory without it. */
  redis?: Redis;
  /** Where logs go (default: stdout); tests capture them. */
  logStream?: NodeJS.WritableStream;
  /** Read by the readiness probe: draining from the start of shutdown. */
  lifecycle?: Lifecycle;
  /** The readiness check (default: its own connection to the ORM's database). */
  readiness?: Readiness;
}

/**
 * One line per request at INFO, written when it completes (with method, URL, status and time),
 * instead of two: "incoming request" moves to DEBUG. The benchmark showed log writing as a
 * visible share of a request's CPU.
 */
class RequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The human-readable API docs page loads scripts and styles, so it gets its own policy. */
const DOCS_PAGE = /^\/docs(?:[/?]|$)/;
/** Static and free of personal data: the only responses that may be cached. */
const CACHEABLE = /^\/(?:docs(?:[/?]|$)|api\/v1\/openapi\.json(?:\?|$))/;
/** Nothing may be loaded, framed or run from an API response. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Errors raised by Fastify itself (body parsing, limits) get the same shape as the API's own. */
function fastifyErrorCode(error: FastifyError): { status: number; code: keyof typeof TRPC_ERROR_CODES_BY_KEY; message: string } {
  const status = error.statusCode ?? 500;
  if (status === 413) return { status, code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' };
  if (status === 415) return { status, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' };
  if (status === 400) {
    const message = error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'Request body is empty' : 'Request body is not valid JSON';
    return { status, code: 'PARSE_ERROR', message };
  }
  if (status >= 400 && status < 500) return { status, code: 'BAD_REQUEST', message: 'Bad request' };
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
}

/**
 * `req.ip` becomes the right-most address not added by a trusted proxy; unset trusts nobody.
 * Fastify itself ignores a hop count (it cannot tell a proxy from a client), so a count is
 * given to it as proxy-addr's own hop test: the operator states every request passes that many.
 */
function trustProxy(setting: Env['TRUST_PROXY']): string[] | ((address: string, hop: number) => boolean) | false {
  if (setting === undefined) return false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}

/** The request id and the security headers every response carries. */
function commonHeaders(req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', req.id);
  void reply.header('x-content-type-options', 'nosniff');
  // Responses carry personal data: no browser, proxy or CDN may keep a copy.
  if (!CACHEABLE.test(req.url)) void reply.header('cache-control', 'no-store');
  if (!DOCS_PAGE.test(req.url)) void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(deps.env, deps.logStream),
    bodyLimit: deps.env.BODY_LIMIT_BYTES,
    // Honour a caller's request id when it is sane, so one id follows a request across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: trustProxy(deps.env.TRUST_PROXY),
    logController: new RequestLogs(),
    // A URL Fastify cannot route (bad percent-encoding): refused before any hook runs, so it
    // gets its headers here, and the error body every other refusal has.
    frameworkErrors: (error, req, reply) => {
      commonHeaders(req, reply);
      const refusal =
        error.code === 'FST_ERR_BAD_URL'
          ? { status: 400, code: 'BAD_REQUEST' as const, message: 'The URL is not valid: bad percent-encoding' }
          : fastifyErrorCode(error);
      void (reply as FastifyReply).status(refusal.status).send(errorBody(req, refusal));
    },
  });

  await registerCors(app, { public: deps.env.CORS_ORIGINS ?? [], admin: deps.env.CORS_ADMIN_ORIGINS ?? [] });

  app.addHook('onRequest', (req, reply, done) => {
    commonHeaders(req, reply);
    done();
  });

  // Abuse protection: per-client create budget (counted before the body is read), per-user budget.
  const limits = { redis: deps.redis, keyPrefix: deps.env.RATE_LIMIT_KEY_PREFIX };
  const createLimit = createRateLimit({ ...limits, name: 'create', points: deps.env.RATE_LIMIT_CREATE_PER_HOUR, durationSeconds: 3600 });
  const userRateLimit = createRateLimit({ ...limits, name: 'user', points: deps.env.RATE_LIMIT_ADMIN_PER_MINUTE, durationSeconds: 60 });
  const operations = registerOperations(app, deps);
  const { counters } = operations;
  app.addHook('onRequest', createLimitHook(createLimit));
  const contextDeps = { ...deps, userRateLimit, counters };

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const { status, code, message } = fastifyErrorCode(error);
    if (status >= 500) req.log.error({ err: error }, 'unhandled error');
    return reply.status(status).send(errorBody(req, { status, code, message }));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'NOT_FOUND', message: 'Not found', request_id: req.id }));

  // Both adapters pass the Fastify request here, before they format the error.
  const onError =
    (surface: Context['surface']) =>
    ({ error, path, req, ctx }: { error: { code: string; cause?: unknown }; path?: string; req: unknown; ctx?: unknown }) => {
      // Raised before any context existed: the error formatter finds its request id through this.
      if (!ctx) noteErrorOrigin(error, { requestId: (req as FastifyRequest).id, surface });
      const log = (req as { log?: FastifyInstance['log'] }).log ?? app.log;
      if (error.code === 'INTERNAL_SERVER_ERROR' || error.code === 'SERVICE_UNAVAILABLE') {
        log.error({ err: error.cause ?? error, path }, 'procedure failed');
      } else {
        log.info({ path, code: error.code }, 'procedure refused');
      }
    };

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: operations.context(contextFactory(contextDeps, 'trpc')),
      onError: onError('trpc'),
    },
  });

  const metas = new Map(procedures.map((p) => [p.path, p.contract.meta]));
  await app.register(fastifyTRPCOpenApiPlugin, {
    router: openApiRouter,
    createContext: operations.context(contextFactory(contextDeps, 'rest')),
    onError: onError('rest'),
    responseMeta: ({ paths, errors }: { paths?: readonly string[]; errors: readonly unknown[] }) => {
      const meta = paths?.[0] ? metas.get(paths[0]) : undefined;
      return errors.length === 0 && meta ? { status: meta.successStatus } : {};
    },
  });

  const document = serializeOpenApiDocument(buildOpenApiDocument());
  app.get(OPENAPI_PATH, (_req, reply) => reply.type('application/json; charset=utf-8').send(document));
  await app.register(docsRoutes);

  return app;
}
