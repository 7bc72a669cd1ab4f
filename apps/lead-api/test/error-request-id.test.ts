import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});

type Call = [what: string, method: string, path: string, headers: Record<string, string>, body?: string];

/** Refused by trpc-to-openapi before it creates a context. */
const restCalls: Array<[...Call, status: number, code: string]> = [
  ['an unknown path', 'GET', '/api/v1/nope', {}, undefined, 404, 'NOT_FOUND'],
  ['a method no operation has', 'DELETE', '/api/v1/leads', {}, undefined, 404, 'NOT_FOUND'],
  ['a POST without a content type', 'POST', '/api/v1/leads', {}, undefined, 415, 'UNSUPPORTED_MEDIA_TYPE'],
];

/** Refused by tRPC while it reads the request, before it creates a context. */
const trpcCalls: Array<[...Call, status: number, code: string, jsonRpcCode: number]> = [
  [
    'a content type tRPC does not read',
    'POST',
    '/trpc/leads.create',
    { 'content-type': 'text/plain' },
    'x',
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    -32015,
  ],
  [
    'a batch mixing a query and a mutation',
    'POST',
    '/trpc/leads.list,leads.create?batch=1',
    { 'content-type': 'application/json' },
    '{}',
    400,
    'BAD_REQUEST',
    -32600,
  ],
  ['an unbatched streaming call', 'GET', '/trpc/health', { 'trpc-accept': 'application/jsonl' }, undefined, 400, 'BAD_REQUEST', -32600],
  [
    'multipart with another method than POST',
    'PUT',
    '/trpc/health',
    { 'content-type': 'multipart/form-data; boundary=x' },
    '--x--',
    405,
    'METHOD_NOT_SUPPORTED',
    -32005,
  ],
];

const send = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
  const res = await fetch(`${t.url}${path}`, { method, headers, body });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as any };
};

describe('errors answered before a context exists carry the request id', () => {
  it.each(restCalls)('REST: %s', async (_what, method, path, headers, body, status, code) => {
    const res = await t.rest(method, path, { headers: { ...headers, 'x-request-id': `rest-${code}` }, ...(body ? { body } : {}) });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ code, message: expect.any(String), request_id: `rest-${code}` });

    const generated = await t.rest(method, path, { headers });
    expect(generated.body.request_id).toBe(generated.headers.get('x-request-id'));
    expect(generated.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each(trpcCalls)('tRPC: %s, in the tRPC error shape', async (_what, method, path, headers, body, status, code, jsonRpcCode) => {
    const res = await send(method, path, { ...headers, 'x-request-id': `trpc-${status}-${code}` }, body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({
      error: {
        json: { message: expect.any(String), code: jsonRpcCode, data: { code, httpStatus: status, request_id: `trpc-${status}-${code}` } },
      },
    });

    const generated = await send(method, path, headers, body);
    expect(generated.body.error.json.data.request_id).toBe(generated.requestId);
    expect(generated.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('each concurrent request gets its own id', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => {
      const [, method, path, headers, body] = i % 2 ? restCalls[i % restCalls.length]! : trpcCalls[i % trpcCalls.length]!;
      return send(method, path, { ...headers, 'x-request-id': `concurrent-${i}` }, body);
    });
    const answers = await Promise.all(calls);
    answers.forEach((res, i) => {
      expect(res.requestId).toBe(`concurrent-${i}`);
      expect(res.body.request_id ?? res.body.error.json.data.request_id).toBe(`concurrent-${i}`);
    });
  });
});

/** A URL Fastify cannot decode is refused before any hook or adapter runs. */
describe('a URL with bad percent-encoding', () => {
  it.each([
    ['REST', '/api/v1/leads/%E0%A4%A'],
    ['tRPC', '/trpc/leads.get%E0%A4%A'],
  ])('gets a 400 in the %s error shape with its request id and the security headers', async (surface, path) => {
    const res = await fetch(`${t.url}${path}`, { headers: { 'x-request-id': `bad-url-${surface}` } });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe(`bad-url-${surface}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = (await res.json()) as any;
    if (surface === 'REST') {
      expect(body).toEqual({ code: 'BAD_REQUEST', message: expect.stringContaining('URL'), request_id: 'bad-url-REST' });
    } else {
      expect(body.error.json.data).toEqual({ code: 'BAD_REQUEST', httpStatus: 400, request_id: 'bad-url-tRPC' });
    }
  });
});
