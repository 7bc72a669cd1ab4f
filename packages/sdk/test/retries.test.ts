// Retry timing and error mapping with a fake `fetch`: statuses and delays the live service gives
// only under load. The behaviour against the real service is in website.test.ts and cms.test.ts.
import { describe, expect, it } from 'vitest';
import { ConnectionTimeoutError, createLeadClient, ServerError, UnavailableError } from '../dist/index.js';
import { RateLimitedError, submitLead } from '../dist/website.js';

interface Attempt {
  at: number;
  method: string;
  key: string | null;
}

/** Answers each attempt with the next of `script` (a status, or 'drop' for a network failure), then 200. */
function scripted(script: (number | 'drop' | 'hang')[], headers: Record<string, string> = {}) {
  const attempts: Attempt[] = [];
  const fake: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    attempts.push({ at: Date.now(), method: init?.method ?? 'GET', key: new Headers(init?.headers).get('idempotency-key') });
    const step = script[attempts.length - 1];
    if (step === 'drop') return Promise.reject(new TypeError('fetch failed'));
    if (step === 'hang')
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    const status = step ?? 200;
    const ok = url.includes('/trpc')
      ? JSON.stringify(
          url.includes('batch=1')
            ? [{ result: { data: { json: { status: 'ok', database: 'ok' } } } }]
            : { result: { data: { json: { ok: true } } } },
        )
      : JSON.stringify({ id: 'x', name: 'n', email: 'e', status: 'new', created_at: '2024-01-15T10:30:00.000Z' });
    const body = status === 200 ? ok : JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'later', request_id: 'r' });
    return Promise.resolve(new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } }));
  };
  const gaps = () => attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
  return { fake, attempts, gaps };
}

const site = 'http://leads.invalid';

describe('retries', () => {
  it('back off exponentially, with jitter, after network failures', async () => {
    const net = scripted(['drop', 'drop']);
    await submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: site, fetch: net.fake });
    expect(net.attempts).toHaveLength(3);
    const [first, second] = net.gaps();
    // 500 ms and 1000 ms, each up to a quarter shorter.
    expect(first).toBeGreaterThanOrEqual(370);
    expect(first).toBeLessThan(700);
    expect(second).toBeGreaterThanOrEqual(740);
    expect(second).toBeLessThan(1300);
    expect(new Set(net.attempts.map((a) => a.key)).size).toBe(1);
  });

  it('wait what Retry-After asks on 429 and 503, and stop at maxRetries', async () => {
    const busy = scripted([503, 429], { 'retry-after': '1' });
    await submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: site, fetch: busy.fake });
    expect(busy.attempts).toHaveLength(3);
    for (const gap of busy.gaps()) expect(gap).toBeGreaterThanOrEqual(990);

    const down = scripted([503, 503, 503, 503]);
    const error = await submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: site, fetch: down.fake, maxRetries: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toBeInstanceOf(ServerError);
    expect(down.attempts).toHaveLength(2);
  });

  it('do not sit out a Retry-After longer than a minute: the error says when', async () => {
    const limited = scripted([429], { 'retry-after': '3600' });
    const error = await submitLead({ name: 'A', email: 'a@example.com' }, { baseURL: site, fetch: limited.fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBe(3600);
    expect(limited.attempts).toHaveLength(1);
  });

  it('repeat CMS queries and keyed mutations, never other mutations', async () => {
    const query = scripted([503]);
    const cms = (fake: typeof fetch) => createLeadClient({ baseURL: site, fetch: fake, token: 't' });
    await cms(query.fake).health.query();
    expect(query.attempts.map((a) => a.method)).toEqual(['GET', 'GET']);

    const unkeyed = scripted([503]);
    await expect(cms(unkeyed.fake).leads.assign.mutate({ lead_id: 'x', assigned_to: null })).rejects.toBeInstanceOf(UnavailableError);
    expect(unkeyed.attempts).toEqual([expect.objectContaining({ method: 'POST', key: null })]);

    const keyed = scripted([503]);
    await cms(keyed.fake).leads.assign.mutate({ lead_id: 'x', assigned_to: null }, { context: { idempotencyKey: 'k-1' } });
    expect(keyed.attempts).toEqual([expect.objectContaining({ key: 'k-1' }), expect.objectContaining({ key: 'k-1' })]);
  });

  it('time out each attempt, and retry it when the request may be repeated', async () => {
    const hanging = scripted(['hang', 'hang']);
    const client = createLeadClient({ baseURL: site, fetch: hanging.fake, timeout: 100, maxRetries: 1 });
    await expect(client.health.query()).rejects.toBeInstanceOf(ConnectionTimeoutError);
    expect(hanging.attempts).toHaveLength(2);
  });
});
