import { TRPC_PREFIX } from '@lead/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientAddressOf } from './client-address.js';
import { errorBody } from './error-body.js';
import { policyOf, resolveTarget, type Target, type TargetPolicy } from './target.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request is for (null until resolved, or when refused). */
    target: Target | null;
    /** The policies of `target`, combined. */
    policy: TargetPolicy | null;
    /** Whose error shape an answer takes. */
    surface: 'rest' | 'trpc';
    /** The client's canonical address (`http/client-address.ts`). */
    clientAddress: string;
  }
}

/** Nothing may be loaded, framed or run from an API response. */
const API_CONTENT_SECURITY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The request id and the security headers every response carries, from the target's policy. */
export function commonHeaders(req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', req.id);
  void reply.header('x-content-type-options', 'nosniff');
  // Responses carry personal data: no browser, proxy or CDN may keep a copy, unless the
  // target's policy says it holds none.
  if (req.policy?.cache !== 'public') void reply.header('cache-control', 'no-store');
  // The docs page sets its own policy; everything else may load nothing.
  if (req.policy?.contentSecurity !== 'docs') void reply.header('content-security-policy', API_CONTENT_SECURITY);
}

/** The Fastify route each kind of target must have reached, so no router reads it differently. */
function reachedExpectedRoute(req: FastifyRequest, target: Target): boolean {
  const route = req.routeOptions.url;
  if (req.method === 'OPTIONS') return true; // CORS preflights are answered by @fastify/cors.
  if (target.kind === 'document') return route === req.url.split('?', 1)[0];
  return target.surface === 'trpc' ? route === `${TRPC_PREFIX}/:path` : route === '/*';
}

export interface GateOptions {
  maxBatchSize: number;
  /** True once the service is shutting down: new requests get 503. */
  draining(): boolean;
}

/**
 * The first `onRequest` hook: resolves the request's target from the contracts and decides
 * every policy from it, or refuses the request before anything else runs. Later hooks (CORS,
 * the create budget, body limits) and the procedures read `req.target` / `req.policy` only.
 */
export function registerGate(app: FastifyInstance, opts: GateOptions): void {
  app.decorateRequest('target', null);
  app.decorateRequest('policy', null);
  app.decorateRequest('surface', 'rest');
  app.decorateRequest('clientAddress', '');
  app.addHook('onRequest', async (req, reply) => {
    req.clientAddress = clientAddressOf(req);
    const preflight = req.headers['access-control-request-method'];
    const resolved = resolveTarget(req.method, req.url, {
      maxBatchSize: opts.maxBatchSize,
      ...(typeof preflight === 'string' ? { preflightMethod: preflight } : {}),
    });
    req.surface = resolved.surface;
    if (resolved.kind !== 'refused' && reachedExpectedRoute(req, resolved)) {
      req.target = resolved;
      req.policy = policyOf(resolved);
    }
    commonHeaders(req, reply);
    if (opts.draining()) {
      void reply.header('connection', 'close');
      return reply.status(503).send(errorBody(req, { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'The service is shutting down' }));
    }
    if (resolved.kind === 'refused') {
      req.log.info({ status: resolved.status }, 'request target refused');
      return reply.status(resolved.status).send(errorBody(req, resolved));
    }
    if (!req.target) return reply.status(404).send(errorBody(req, { status: 404, code: 'NOT_FOUND', message: 'Not found' }));
  });
}
