import { TRPCClientError } from '@trpc/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@lead/contracts';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
let client: ReturnType<TestApp['trpc']>;
beforeAll(async () => {
  t = await startTestApp();
  client = t.trpc(await t.token());
});

async function trpcError(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}

describe('the same procedures over /trpc with superjson', () => {
  it('runs the whole lifecycle with Dates, not strings', async () => {
    const created = await t.trpc().leads.create.mutate({ name: 'Ada', email: 'ada@example.com', source: 'social' });
    expect(created).toEqual({ id: expect.any(String), name: 'Ada', email: 'ada@example.com', status: 'new', created_at: expect.any(Date) });

    const page = await client.leads.list.query({ source: 'social' });
    expect(page.total).toBe(1);
    expect(page.items[0]!.created_at).toBeInstanceOf(Date);

    const changed = await client.leads.updateStatus.mutate({ lead_id: created.id, status: 'closed_won', notes: 'Signed' });
    expect(changed.closed_at).toBeInstanceOf(Date);

    const assigned = await client.leads.assign.mutate({ lead_id: created.id, assigned_to: ADMIN_ID });
    expect(assigned.assigned_to).toBe(ADMIN_ID);

    const note = await client.leads.addActivity.mutate({ lead_id: created.id, activity_type: 'note_added', description: 'Sent contract' });
    expect(note.performed_by).toBe(ADMIN_ID);

    const detail = await client.leads.get.query({ lead_id: created.id });
    expect(detail.activities.map((a) => a.activity_type)).toEqual(['created', 'status_changed', 'assigned', 'note_added']);
    expect(detail.closed_at).toBeInstanceOf(Date);
    expect(detail.status).toBe('closed_won');

    expect(await t.trpc().health.query()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('answers errors with tRPC codes, the HTTP status, the request id and the fields at fault', async () => {
    const invalid = await trpcError(t.trpc().leads.create.mutate(sampleLead({ email: 'nope' }) as never));
    expect(invalid.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, request_id: expect.any(String) });
    expect(invalid.data?.issues?.[0]).toMatchObject({ path: ['email'], code: 'invalid_format' });
    expect(JSON.stringify(invalid.shape)).not.toContain('stack');

    const missing = await trpcError(client.leads.get.query({ lead_id: '0195f3a0-0000-7000-8000-000000000000' }));
    expect(missing.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });

    const { id } = await t.trpc().leads.create.mutate(sampleLead() as never);
    const conflict = await trpcError(client.leads.updateStatus.mutate({ lead_id: id, status: 'new' }));
    expect(conflict.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409 });

    const anonymous = await trpcError(t.trpc().leads.list.query({}));
    expect(anonymous.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
  });

  it('refuses an over-sized body with 413 in the tRPC error shape', async () => {
    const res = await fetch(`${t.url}/trpc/leads.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: sampleLead({ message: 'x'.repeat(70_000) }) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { json: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } } });
  });
});
