import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body.js';
import { clientKey, rateLimitHeaders, type RateLimit } from './rate-limit.js';

const CREATE_REST_PATH = '/api/v1/leads';
const CREATE_PROCEDURE = 'leads.create';

/**
 * How many lead creations a request asks for: one for `POST /api/v1/leads`, one per
 * `leads.create` in a (possibly batched) tRPC call. Judged from the URL alone, so it can be
 * counted before the body is read: malformed and invalid submissions count like valid ones.
 */
export function createCalls(req: FastifyRequest): { count: number; procedures: string[] | null } {
  // Creation only ever happens on POST; a browser's CORS preflight (OPTIONS) must not cost a submission.
  if (req.method !== 'POST') return { count: 0, procedures: null };
  const [rawPath = '', query = ''] = req.url.split('?', 2);
  const path = rawPath.length > 1 ? rawPath.replace(/\/$/, '') : rawPath;
  if (path === CREATE_REST_PATH) return { count: 1, procedures: null };
  if (!path.startsWith('/trpc/')) return { count: 0, procedures: null };
  let procedures: string[];
  try {
    procedures = decodeURIComponent(path.slice('/trpc/'.length)).split(',');
  } catch {
    return { count: 0, procedures: null };
  }
  const count = procedures.filter((p) => p === CREATE_PROCEDURE).length;
  // A batched call is answered with one result per procedure, errors included.
  const batched = new URLSearchParams(query).get('batch') === '1';
  return { count, procedures: batched ? procedures : null };
}

/**
 * `onRequest` hook: counts create calls per client (the address Fastify derives under
 * TRUST_PROXY; IPv6 per /64), puts `RateLimit-*` on every create response and refuses with 429
 * and `Retry-After` beyond the budget, in the error shape of the surface that was called.
 */
export function createLimitHook(limit: RateLimit) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { count, procedures } = createCalls(req);
    if (count === 0) return;
    const verdict = await limit.consume(clientKey(req.ip), count);
    void reply.headers(rateLimitHeaders(verdict));
    if (verdict.allowed) return;
    req.log.info({ limit: 'create' }, 'create rate limit exceeded');
    const message = `Too many submissions: try again in ${verdict.resetSeconds} seconds`;
    const body = errorBody(req, { status: 429, code: 'TOO_MANY_REQUESTS', message });
    const batch = procedures?.map((path) => errorBody(req, { status: 429, code: 'TOO_MANY_REQUESTS', message, path }));
    return reply.status(429).send(batch ?? body);
  };
}
