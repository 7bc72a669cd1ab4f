import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body.js';
import { clientKey, rateLimitHeaders, type RateLimit } from './rate-limit.js';

/**
 * `onRequest` hook, after the request's target is resolved: spends the create budget of the
 * client (its canonical address; IPv6 per /64) for every call whose contract draws on it, one
 * per call of a batch, before the body is read, so malformed and invalid submissions count like
 * valid ones. Puts `RateLimit-*` on the answer, and refuses with 429 and `Retry-After` beyond the
 * budget, in the error shape of the surface called. Only POSTs can create: a browser's CORS
 * preflight must not cost a submission.
 */
export function createLimitHook(limit: RateLimit) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { target, policy } = req;
    if (req.method !== 'POST' || target?.kind !== 'procedure' || !policy || policy.createCalls === 0) return;
    const verdict = await limit.consume(clientKey(req.clientAddress), policy.createCalls);
    void reply.headers(rateLimitHeaders(verdict));
    if (verdict.allowed) return;
    req.log.info({ limit: 'create' }, 'create rate limit exceeded');
    const message = `Too many submissions: try again in ${verdict.resetSeconds} seconds`;
    const refusal = { status: 429, code: 'TOO_MANY_REQUESTS' as const, message };
    // A batched call is answered with one result per call, errors included.
    const body = target.batch ? target.calls.map((c) => errorBody(req, { ...refusal, path: c.path })) : errorBody(req, refusal);
    return reply.status(429).send(body);
  };
}
