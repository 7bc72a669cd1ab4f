import { Database, IdempotencyKeyRepository } from '@lead/db';
import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

const create = (key: string | undefined, body: unknown = sampleLead()) =>
  t.rest('POST', '/api/v1/leads', { body, headers: key === undefined ? {} : { 'idempotency-key': key } });

const leadsWithEmail = async (email: string) =>
  (await t.sql<{ id: string }>('select id from lead.leads where email = ? order by created_at', [email])).map((r) => r.id);

let n = 0;
const uniqueKey = () => `key-${process.pid}-${Date.now()}-${n++}`;
const uniqueEmail = () => `idem-${n++}@example.com`;

describe('Idempotency-Key on create', () => {
  it('replays the first response for the same key and body, and stores one lead', async () => {
    const key = uniqueKey();
    const email = uniqueEmail();
    const first = await create(key, sampleLead({ email }));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // The same submission, spelled differently (field order, surrounding spaces).
    const { name, ...rest } = sampleLead({ email });
    const again = await create(key, { ...rest, name: `  ${name}  ` });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await leadsWithEmail(email)).toEqual([first.body.id]);
  });

  it('replays the answer as it was, even after the lead has moved on', async () => {
    const key = uniqueKey();
    const first = await create(key);
    await t.rest('PATCH', `/api/v1/leads/${first.body.id}/status`, { token: admin, body: { status: 'contacted' } });
    const again = await create(key);
    expect(again.body).toEqual({ ...first.body, status: 'new' });
  });

  it('refuses the same key with a different body with 422, and stores nothing more', async () => {
    const key = uniqueKey();
    const email = uniqueEmail();
    const first = await create(key, sampleLead({ email }));
    const other = await create(key, sampleLead({ email, message: 'Something else entirely' }));
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      code: 'UNPROCESSABLE_CONTENT',
      message: 'This Idempotency-Key was already used with a different request body',
      request_id: other.headers.get('x-request-id'),
    });
    expect(await leadsWithEmail(email)).toEqual([first.body.id]);
  });

  it('creates exactly one lead from 20 concurrent requests with one key', async () => {
    const key = uniqueKey();
    const email = uniqueEmail();
    const responses = await Promise.all(Array.from({ length: 20 }, () => create(key, sampleLead({ email }))));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(responses.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    expect(await leadsWithEmail(email)).toEqual([...ids]);
    const [activities] = await t.sql<{ n: string }>('select count(*) as n from lead.lead_activities where lead_id = ?', [[...ids][0]]);
    expect(Number(activities!.n)).toBe(1);
    const events = await t.sql<{ event_type: string }>('select event_type from lead.outbox_events where lead_id = ?', [[...ids][0]]);
    expect(events).toEqual([{ event_type: 'LeadCreated' }]);
  });

  it('treats a key older than 24 hours as new', async () => {
    const key = uniqueKey();
    const email = uniqueEmail();
    const first = await create(key, sampleLead({ email }));
    await t.sql(`update lead.idempotency_keys set created_at = now() - interval '25 hours' where key = ?`, [key]);
    const later = await create(key, sampleLead({ email }));
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(later.body.id).not.toBe(first.body.id);
    expect(await leadsWithEmail(email)).toEqual([first.body.id, later.body.id]);
  });

  it('prunes keys older than 24 hours and keeps the others', async () => {
    const [old, fresh] = [uniqueKey(), uniqueKey()];
    await create(old);
    await create(fresh);
    await t.sql(`update lead.idempotency_keys set created_at = now() - interval '25 hours' where key = ?`, [old]);
    expect(await new IdempotencyKeyRepository(Database.of(t.orm)).pruneExpired()).toBeGreaterThanOrEqual(1);
    const left = await t.sql<{ key: string }>('select key from lead.idempotency_keys where key in (?, ?)', [old, fresh]);
    expect(left).toEqual([{ key: fresh }]);
  });

  it('accepts keys up to 255 characters and refuses longer ones with 400', async () => {
    expect((await create('k'.repeat(255))).status).toBe(201);
    const tooLong = await create('k'.repeat(256));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ code: 'BAD_REQUEST', message: 'Idempotency-Key must be 1 to 255 characters' });
  });

  it('works the same over tRPC', async () => {
    const key = uniqueKey();
    const call = () =>
      fetch(`${t.url}/trpc/leads.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(superjson.serialize(sampleLead())),
      });
    const [first, again] = [await call(), await call()];
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const id = (res: unknown) => superjson.deserialize<{ id: string }>((res as { result: { data: never } }).result.data).id;
    expect(id(await again.json())).toBe(id(await first.json()));
  });

  it('leaves requests without a key alone: each creates a lead', async () => {
    const email = uniqueEmail();
    await create(undefined, sampleLead({ email }));
    await create(undefined, sampleLead({ email }));
    expect(await leadsWithEmail(email)).toHaveLength(2);
  });
});
