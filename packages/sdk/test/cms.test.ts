import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConflictError,
  ConnectionError,
  ConnectionTimeoutError,
  createLeadClient,
  LeadServiceError,
  NotFoundError,
  RateLimitedError,
  RequestAbortedError,
  UnauthorizedError,
  type LeadClient,
} from '../dist/index.js';
import { ADMIN_ID, startService, uniqueEmail, type Service } from './support/service.js';

let service: Service;
let cms: LeadClient;
beforeAll(async () => {
  service = await startService();
  const token = await service.adminToken();
  // getToken runs before every request, as a CMS with expiring sessions would use it.
  cms = createLeadClient({ baseURL: service.url, getToken: () => token });
});
afterAll(() => service?.stop());

async function rejection(promise: Promise<unknown>): Promise<LeadServiceError> {
  const error = await promise.then(
    () => expect.unreachable('the call should have failed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LeadServiceError);
  return error as LeadServiceError;
}

describe('the CMS client against the live service', () => {
  it('runs a lead through its whole life, with Dates for dates', async () => {
    const email = uniqueEmail();
    const created = await cms.leads.create.mutate({ name: 'Ada Lovelace', email, company: 'Analytical', source: 'referral' });
    expect(created).toEqual({ id: expect.any(String), name: 'Ada Lovelace', email, status: 'new', created_at: expect.any(Date) });

    const page = await cms.leads.list.query({ status: 'new', source: 'referral', limit: 5 });
    expect(page).toMatchObject({ total: 1, page: 1, limit: 5 });
    expect(page.items.map((l) => l.id)).toEqual([created.id]);
    expect((await cms.leads.list.query({ source: 'social' })).total).toBe(0);

    const status = await cms.leads.updateStatus.mutate({ lead_id: created.id, status: 'contacted', notes: 'Called' });
    expect(status).toMatchObject({ id: created.id, status: 'contacted', closed_at: null });
    const closed = await cms.leads.updateStatus.mutate({ lead_id: created.id, status: 'closed_won' });
    expect(closed.closed_at).toBeInstanceOf(Date);

    const assigned = await cms.leads.assign.mutate({ lead_id: created.id, assigned_to: ADMIN_ID });
    expect(assigned).toMatchObject({ id: created.id, assigned_to: ADMIN_ID });
    expect((await cms.leads.list.query({ assigned_to: ADMIN_ID })).items.map((l) => l.id)).toEqual([created.id]);

    const note = await cms.leads.addActivity.mutate({ lead_id: created.id, activity_type: 'note_added', description: 'Signed' });
    expect(note).toMatchObject({ activity_type: 'note_added', description: 'Signed', performed_by: ADMIN_ID });

    const lead = await cms.leads.get.query({ lead_id: created.id });
    expect(lead).toMatchObject({ id: created.id, status: 'closed_won', assigned_to: ADMIN_ID, company: 'Analytical' });
    expect(lead.created_at).toBeInstanceOf(Date);
    expect(lead.activities.map((a) => a.activity_type)).toEqual(['created', 'status_changed', 'status_changed', 'assigned', 'note_added']);
    expect(lead.activities[1]!.details).toEqual({ old_status: 'new', new_status: 'contacted' });
  });

  it('rejects with typed errors that carry status, code, request id and fields', async () => {
    const missing = await rejection(cms.leads.get.query({ lead_id: '00000000-0000-4000-8000-000000000000' }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ name: 'NotFoundError', status: 404, code: 'NOT_FOUND', issues: [] });
    expect(missing.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const invalid = await rejection(cms.leads.create.mutate({ name: 'Ada', email: 'not-an-email' }));
    expect(invalid).toBeInstanceOf(BadRequestError);
    expect(invalid).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(invalid.issues).toEqual([expect.objectContaining({ path: ['email'], code: 'invalid_format' })]);

    const unchanged = await cms.leads.create.mutate({ name: 'Bob', email: uniqueEmail() });
    const conflict = await rejection(cms.leads.updateStatus.mutate({ lead_id: unchanged.id, status: 'new' }));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ status: 409, code: 'CONFLICT' });

    const anonymous = createLeadClient({ baseURL: service.url, headers: { 'x-request-id': 'cms-trace-42' } });
    const unauthorized = await rejection(anonymous.leads.list.query({}));
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);
    expect(unauthorized).toMatchObject({ status: 401, code: 'UNAUTHORIZED', requestId: 'cms-trace-42' });
  });

  it('tells a refused connection, a timeout and an abort apart', async () => {
    const offline = createLeadClient({ baseURL: 'http://127.0.0.1:9', token: 'x', maxRetries: 1 });
    const refused = await rejection(offline.leads.list.query({}));
    expect(refused).toBeInstanceOf(ConnectionError);
    expect(refused).not.toBeInstanceOf(ConnectionTimeoutError);
    expect(refused).toMatchObject({ name: 'ConnectionError', status: undefined, code: undefined, requestId: undefined });

    const slow: typeof fetch = (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    const impatient = createLeadClient({ baseURL: service.url, fetch: slow, timeout: 50, maxRetries: 0 });
    expect(await rejection(impatient.health.query())).toBeInstanceOf(ConnectionTimeoutError);

    const controller = new AbortController();
    const patient = createLeadClient({ baseURL: service.url, fetch: slow, timeout: 10_000 });
    const pending = patient.health.query(undefined, { signal: controller.signal });
    controller.abort();
    const aborted = await rejection(pending);
    expect(aborted).toBeInstanceOf(RequestAbortedError);
    expect(aborted).not.toBeInstanceOf(ConnectionError);
  });

  it('retries a create whose answer was lost with the same key, storing one lead', async () => {
    const token = await service.adminToken();
    const keys: (string | null)[] = [];
    let dropped = false;
    const lossy: typeof fetch = async (input, init) => {
      keys.push(new Headers(init?.headers).get('idempotency-key'));
      const response = await fetch(input, init);
      if (!dropped) {
        dropped = true;
        throw new TypeError('network connection lost');
      }
      return response;
    };
    const client = createLeadClient({ baseURL: service.url, token, fetch: lossy });
    const email = uniqueEmail();
    const lead = await client.leads.create.mutate({ name: 'Once', email });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(await service.sql('select id from lead.leads where email = $1', [email])).toEqual([{ id: lead.id }]);

    // A mutation without a key is sent once: the service might have applied it.
    keys.length = 0;
    dropped = false;
    const error = await rejection(client.leads.updateStatus.mutate({ lead_id: lead.id, status: 'contacted' }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(keys).toEqual([null]);
  });

  it('answers a rate-limited create with the retry time', async () => {
    const limited = await startService({ RATE_LIMIT_CREATE_PER_HOUR: '1' });
    try {
      const client = createLeadClient({ baseURL: limited.url });
      await client.leads.create.mutate({ name: 'First', email: uniqueEmail() });
      const started = Date.now();
      const error = await rejection(client.leads.create.mutate({ name: 'Second', email: uniqueEmail() }));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
      // An hour's budget: the client does not sit out a Retry-After that long, it reports it.
      expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(60);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await limited.stop();
    }
  });
});
