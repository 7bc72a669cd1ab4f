import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadClient, isLeadApiError, LeadApiError, type LeadClient } from '../dist/index.js';
import { ADMIN_ID, startService, uniqueEmail, type Service } from './support/service.js';

let service: Service;
let cms: LeadClient;
beforeAll(async () => {
  service = await startService();
  const token = await service.adminToken();
  // getToken runs before every request, as a CMS with expiring sessions would use it.
  cms = createLeadClient({ url: service.url, getToken: () => token });
});
afterAll(() => service?.stop());

async function rejection(promise: Promise<unknown>): Promise<LeadApiError> {
  const error = await promise.then(
    () => expect.unreachable('the call should have failed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LeadApiError);
  return error as LeadApiError;
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
    expect(missing).toMatchObject({ name: 'LeadApiError', status: 404, code: 'NOT_FOUND', issues: [] });
    expect(missing.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(isLeadApiError(missing)).toBe(true);

    const invalid = await rejection(cms.leads.create.mutate({ name: 'Ada', email: 'not-an-email' }));
    expect(invalid).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(invalid.issues).toEqual([expect.objectContaining({ path: ['email'], code: 'invalid_format' })]);

    const unchanged = await cms.leads.create.mutate({ name: 'Bob', email: uniqueEmail() });
    const conflict = await rejection(cms.leads.updateStatus.mutate({ lead_id: unchanged.id, status: 'new' }));
    expect(conflict).toMatchObject({ status: 409, code: 'CONFLICT' });

    const anonymous = createLeadClient({ url: service.url, headers: { 'x-request-id': 'cms-trace-42' } });
    const unauthorized = await rejection(anonymous.leads.list.query({}));
    expect(unauthorized).toMatchObject({ status: 401, code: 'UNAUTHORIZED', requestId: 'cms-trace-42' });
  });

  it('reports an unreachable service and a timeout as network errors', async () => {
    const offline = createLeadClient({ url: 'http://127.0.0.1:9', token: 'x' });
    expect(await rejection(offline.leads.list.query({}))).toMatchObject({ status: undefined, code: 'NETWORK_ERROR', requestId: undefined });

    const slow: typeof fetch = (input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    const impatient = createLeadClient({ url: service.url, fetch: slow, timeoutMs: 50 });
    expect(await rejection(impatient.health.query())).toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
