import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { documents, TRPC_PREFIX } from '@lead/contracts';
import type { MikroORM } from '@lead/db';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import type { Authenticator } from './auth.js';
import type { Env } from './env.js';
import { registerBodyHandling } from './http/body.js';
import { answerClientError } from './http/client-errors.js';
import { contextFactory } from './http/context.js';
import { registerCors } from './http/cors.js';
import { createLimitHook } from './http/create-limit.js';
import { docsRoutes } from './http/docs.js';
import { errorBody, type HttpError } from './http/error-body.js';
import { commonHeaders, registerGate } from './http/gate.js';
import { createRateLimit } from './http/rate-limit.js';
import { registerRest } from './http/rest.js';
import { longestTrpcSegment } from './http/target.js';
import { loggerOptions } from './logger.js';
import type { Lifecycle } from './ops/lifecycle.js';
import type { Readiness } from './ops/readiness.js';
import { registerOperations } from './ops/register.js';
import { retentionConfig, type RetentionEnv } from './ops/retention.js';
import { buildOpenApiDocument, serializeOpenApiDocument } from './openapi.js';
import { noteErrorOrigin } from './procedures/errors.js';
import { appRouter, openApiRouter } from './router.js';
import type { Context } from './trpc.js';

export interface ServerDeps {
  env: Pick<
    Env,
    | 'LOG_LEVEL'
    | 'BODY_LIMIT_BYTES'
    | 'TRUST_PROXY'
    | 'RATE_LIMIT_CREATE_PER_HOUR'
    | 'RATE_LIMIT_ADMIN_PER_MINUTE'
    | 'RATE_LIMIT_KEY_PREFIX'
    | 'TRPC_MAX_BATCH_SIZE'
    | 'REQUEST_TIMEOUT_MS'
    | 'DUPLICATE_WINDOW_DAYS'
    | 'REQUIRE_CONSENT'
  > &
    RetentionEnv &
    Partial<Pick<Env, 'CORS_ORIGINS' | 'CORS_ADMIN_ORIGINS' | 'READY_TIMEOUT_MS' | 'METRICS_PORT'>>;
  orm: MikroORM;
  auth: Authenticator;
  /** Where rate limits are counted, shared by all instances; in memory without it. */
  redis?: Redis;
  /** Where logs go (default: stdout); tests capture them. */
  logStream?: DestinationStream;
  /** Draining from the start of shutdown: the readiness probe fails, so traffic moves elsewhere. */
  lifecycle?: Lifecycle;
  /** The readiness check (default: its own connection to the ORM's database). */
  readiness?: Readiness;
  /** Key of the erasure records' address hash (`ERASURE_HASH_SECRET`, or the development one). */
  erasureHashSecret: string;
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

/** Errors raised by Fastify itself (body parsing, limits) get the same shape as the API's own. */
function fastifyErrorCode(error: FastifyError): HttpError {
  const status = error.statusCode ?? 500;
  if (status === 413) return { status, code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' };
  if (status === 415) return { status, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' };
  if (status === 400) {
    const message =
      error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
        ? 'Request body is empty'
        : error.code === 'LEAD_JSON_TOO_DEEP'
          ? error.message
          : 'Request body is not valid JSON';
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

const noFastifySchemas = (): never => {
  throw new Error('routes take no Fastify schemas: validate with the contract (Zod)');
};

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { env } = deps;
  let closing = false;
  const app = Fastify({
    logger: loggerOptions(env, deps.logStream),
    bodyLimit: env.BODY_LIMIT_BYTES,
    // A request (headers and body) must arrive whole within REQUEST_TIMEOUT_MS, checked every
    // second: a body that trickles in is cut off with 408 instead of holding a connection.
    serverFactory: (handler) =>
      createServer(
        { requestTimeout: env.REQUEST_TIMEOUT_MS, headersTimeout: env.REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
        handler,
      ),
    // Node's HTTP parser refuses some requests before Fastify sees them (oversized headers, a
    // malformed request line, a request that timed out): answered in the service's error shape.
    clientErrorHandler: answerClientError,
    // The gate answers while closing, in the error shape and with the usual headers.
    return503OnClosing: false,
    // A tRPC batch names its calls in one path parameter.
    routerOptions: { maxParamLength: longestTrpcSegment(env.TRPC_MAX_BATCH_SIZE) },
    // Honour a caller's request id when it is sane, so one id follows a request across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // No route declares a Fastify schema (the contracts' Zod schemas validate): without these,
    // Fastify loads Ajv and fast-json-stringify at start-up (~45 ms) to compile nothing.
    schemaController: { compilersFactory: { buildValidator: noFastifySchemas, buildSerializer: noFastifySchemas } },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: trustProxy(env.TRUST_PROXY),
    logController: new RequestLogs(),
    // A URL Fastify cannot route (bad percent-encoding): refused before any hook runs, so it
    // gets its headers here, and the error body every other refusal has.
    frameworkErrors: (error, req, reply) => {
      req.surface = req.url.startsWith(`${TRPC_PREFIX}/`) ? 'trpc' : 'rest';
      commonHeaders(req, reply);
      const refusal =
        error.code === 'FST_ERR_BAD_URL'
          ? { status: 400, code: 'BAD_REQUEST' as const, message: 'The URL is not valid: bad percent-encoding' }
          : fastifyErrorCode(error);
      void (reply as FastifyReply).status(refusal.status).send(errorBody(req, refusal));
    },
  });
  app.addHook('preClose', () => {
    closing = true;
  });

  // First: what the request is for, and so every policy. Then CORS, then the create budget.
  // Draining (`lifecycle`) fails only the readiness probe, so traffic moves away while the
  // server still answers; once it closes, whatever still arrives on an open connection gets 503.
  registerGate(app, { maxBatchSize: env.TRPC_MAX_BATCH_SIZE, draining: () => closing });
  await registerCors(app, { public: env.CORS_ORIGINS ?? [], admin: env.CORS_ADMIN_ORIGINS ?? [] });
  const limits = { redis: deps.redis, keyPrefix: env.RATE_LIMIT_KEY_PREFIX };
  const createLimit = createRateLimit({ ...limits, name: 'create', points: env.RATE_LIMIT_CREATE_PER_HOUR, durationSeconds: 3600 });
  const userRateLimit = createRateLimit({
    ...limits,
    name: 'user',
    points: env.RATE_LIMIT_ADMIN_PER_MINUTE,
    durationSeconds: 60,
    leased: true,
  });
  // Before the rate limits, so that their Redis calls are traced under the request.
  const operations = registerOperations(app, deps);
  const { counters } = operations;
  app.addHook('onRequest', createLimitHook(createLimit));
  registerBodyHandling(app);
  // tRPC sets its own `Vary`; the CORS headers vary by Origin too, and caches must know it.
  // tRPC answers with a Fetch Response whose headers Fastify copies over the reply's after this
  // hook, so its `Vary` is completed on the Response itself.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.headers.origin || !reply.hasHeader('access-control-allow-origin')) return payload;
    const headers = payload instanceof Response ? payload.headers : undefined;
    const vary = (headers ? headers.get('vary') : reply.getHeader('vary')?.toString()) ?? '';
    if (/(^|,)\s*origin\s*(,|$)/i.test(vary)) return payload;
    const completed = vary ? `${vary}, Origin` : 'Origin';
    if (headers) headers.set('vary', completed);
    else void reply.header('vary', completed);
    return payload;
  });

  const contextDeps = {
    ...deps,
    userRateLimit,
    counters,
    leads: { duplicateWindowDays: env.DUPLICATE_WINDOW_DAYS, requireConsent: env.REQUIRE_CONSENT },
    privacy: { erasureHashSecret: deps.erasureHashSecret },
    retention: retentionConfig(env),
  };

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const refusal = fastifyErrorCode(error);
    if (refusal.status >= 500) req.log.error({ err: error }, 'unhandled error');
    return reply.status(refusal.status).send(errorBody(req, refusal));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(errorBody(req, { status: 404, code: 'NOT_FOUND', message: 'Not found' })));

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
    prefix: TRPC_PREFIX,
    trpcOptions: {
      router: appRouter,
      createContext: operations.context(contextFactory(contextDeps, 'trpc')),
      onError: onError('trpc'),
      maxBatchSize: env.TRPC_MAX_BATCH_SIZE,
    },
  });

  registerRest(app, {
    router: openApiRouter,
    createContext: operations.context(contextFactory(contextDeps, 'rest')),
    onError: onError('rest'),
  });

  // Built on its first request rather than at start-up (about 50 ms of it): the same bytes every
  // time, which the openapi test compares with the committed file.
  let document: string | undefined;
  app.get(documents.openapi.path, (_req, reply) =>
    reply.type('application/json; charset=utf-8').send((document ??= serializeOpenApiDocument(buildOpenApiDocument()))),
  );
  await app.register(docsRoutes);

  return app;
}
