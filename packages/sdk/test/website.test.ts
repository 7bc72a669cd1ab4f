import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConnectionError,
  LeadServiceError,
  RateLimitedError,
  RequestAbortedError,
  ServerError,
  UnavailableError,
  submitLead,
} from '../dist/website.js';
import { startService, uniqueEmail, type Service } from './support/service.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(() => service?.stop());

/** The real fetch, recording the idempotency key of every attempt; `failFirst` attempts fail like a dropped connection. */
function recordingFetch(failFirst = 0) {
  const keys: (string | null)[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    keys.push(new Headers(init?.headers).get('idempotency-key'));
    if (keys.length <= failFirst) throw new TypeError('fetch failed');
    return fetch(input, init);
  };
  return { fetch: wrapped, keys };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the submission should have failed'),
    (e: unknown) => e,
  );

describe('submitLead against the live service', () => {
  it('creates the lead and answers with its id and a Date', async () => {
    const email = uniqueEmail();
    const lead = await submitLead({ name: ' Ada ', email, message: 'Hello' }, { baseURL: `${service.url}/` });
    expect(lead).toEqual({ id: expect.any(String), name: 'Ada', email, status: 'new', created_at: expect.any(Date) });
    expect(await service.sql('select message, source from lead.leads where id = $1', [lead.id])).toEqual([
      { message: 'Hello', source: 'website' },
    ]);
  });

  it('sends one idempotency key per submission and reuses it when it retries a network failure', async () => {
    const flaky = recordingFetch(2);
    const email = uniqueEmail();
    await submitLead({ name: 'Retry', email }, { baseURL: service.url, fetch: flaky.fetch });
    expect(flaky.keys).toHaveLength(3);
    expect(flaky.keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(flaky.keys).size).toBe(1);

    const next = recordingFetch();
    await submitLead({ name: 'Retry', email: uniqueEmail() }, { baseURL: service.url, fetch: next.fetch });
    expect(next.keys[0]).not.toBe(flaky.keys[0]);

    const given = recordingFetch();
    await submitLead({ name: 'Given', email: uniqueEmail() }, { baseURL: service.url, fetch: given.fetch, idempotencyKey: 'form-7f3a' });
    expect(given.keys).toEqual(['form-7f3a']);
  });

  it('stores a lead once when its answer was lost and the submission retried', async () => {
    // The request reaches the service, the answer never reaches the page: the retry carries the
    // same key, so the service answers the first result again instead of storing a second lead.
    const keys: (string | null)[] = [];
    const answers: Response[] = [];
    const lossy: typeof fetch = async (input, init) => {
      keys.push(new Headers(init?.headers).get('idempotency-key'));
      const response = await fetch(input, init);
      answers.push(response);
      if (answers.length === 1) throw new TypeError('network connection lost');
      return response;
    };
    const email = uniqueEmail();
    const lead = await submitLead({ name: 'Lost answer', email }, { baseURL: service.url, fetch: lossy });
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(answers.map((a) => a.status)).toEqual([201, 201]);
    expect(answers[1]!.headers.get('idempotent-replayed')).toBe('true');
    expect(await service.sql('select id from lead.leads where email = $1', [email])).toEqual([{ id: lead.id }]);
  });

  it('throws a validation error naming the fields at fault', async () => {
    const error = await rejection(submitLead({ name: '', email: 'nope' }, { baseURL: service.url }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toBeInstanceOf(LeadServiceError);
    const e = error as BadRequestError;
    expect(e).toMatchObject({ name: 'BadRequestError', status: 400, code: 'BAD_REQUEST', requestId: expect.any(String) });
    expect(e.issues.map((i) => i.path)).toEqual([['name'], ['email']]);
    expect(e.issues.every((i) => i.message.length > 0)).toBe(true);
  });

  it('gives up on an unreachable service with a network error after its retries', async () => {
    const counting = recordingFetch();
    const error = await rejection(
      submitLead({ name: 'A', email: uniqueEmail() }, { baseURL: 'http://127.0.0.1:9', fetch: counting.fetch, maxRetries: 1 }),
    );
    expect(error).toMatchObject({ name: 'ConnectionError', status: undefined, code: undefined, cause: expect.any(TypeError) });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(counting.keys).toHaveLength(2);

    const aborted = recordingFetch();
    const controller = new AbortController();
    controller.abort();
    const abortError = await rejection(
      submitLead({ name: 'A', email: uniqueEmail() }, { baseURL: service.url, fetch: aborted.fetch, signal: controller.signal }),
    );
    expect(abortError).toBeInstanceOf(RequestAbortedError);
    expect(abortError).not.toBeInstanceOf(ConnectionError);
    expect(aborted.keys).toHaveLength(0);
  });
});

describe('submitLead reading error answers', () => {
  // Statuses the live service answers only under load or failure, from a plain HTTP server.
  const answers: Record<string, { status: number; headers: Record<string, string>; body: string }> = {
    '/limited/api/v1/leads': {
      status: 429,
      headers: { 'retry-after': '120', 'x-request-id': 'req-429' },
      body: JSON.stringify({ code: 'TOO_MANY_REQUESTS', message: 'Too many requests', request_id: 'req-429' }),
    },
    '/down/api/v1/leads': {
      status: 503,
      headers: { 'x-request-id': 'req-503' },
      body: JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'Try again shortly', request_id: 'req-503' }),
    },
    '/proxy/api/v1/leads': { status: 502, headers: { 'x-request-id': 'req-502' }, body: '<html>Bad gateway</html>' },
  };
  const server = createServer((req, res) => {
    const answer = answers[req.url ?? '']!;
    res.writeHead(answer.status, answer.headers).end(answer.body);
  });
  let base: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('maps 429 to a rate-limit error with the retry time, other failures to server errors', async () => {
    const limited = await rejection(submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: `${base}/limited` }));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited).toMatchObject({
      name: 'RateLimitedError',
      status: 429,
      code: 'TOO_MANY_REQUESTS',
      requestId: 'req-429',
      retryAfterSeconds: 120,
    });

    const down = await rejection(submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: `${base}/down`, maxRetries: 0 }));
    expect(down).toBeInstanceOf(UnavailableError);
    expect(down).toBeInstanceOf(ServerError);
    expect(down).toMatchObject({
      name: 'UnavailableError',
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: 'Try again shortly',
      requestId: 'req-503',
    });

    const proxy = await rejection(submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: `${base}/proxy`, maxRetries: 0 }));
    expect(proxy).toMatchObject({ name: 'ServerError' });
    expect(proxy).toBeInstanceOf(ServerError);
    expect(proxy).toMatchObject({ status: 502, code: undefined, message: 'HTTP 502', requestId: 'req-502' });
  });
});
