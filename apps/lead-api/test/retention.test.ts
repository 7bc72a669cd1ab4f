import { Database, PrivacyRepository, RetentionRepository, ruleMatches } from '@lead/db';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/env.js';
import { createRetentionJob, RETENTION_LOCK_KEY } from '../src/ops/retention.js';
import { startTestApp, TEST_SECRET, type TestApp } from './support/app.js';
import { admin, databaseUrl, uniqueName, withClient } from './support/database.js';
import { spawnService, stopServices } from './support/service.js';
import { waitUntil } from './support/wait.js';

const DAY = 86_400_000;
const RULES = { RETENTION_CLOSED_DAYS: 365, RETENTION_INACTIVE_DAYS: 180, EVENT_PAYLOAD_RETENTION_DAYS: 30, AUDIT_RETENTION_DAYS: 730 };
const CLOSED = ['closed_won', 'closed_lost'];
const STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'];

interface SeededLead {
  id: string;
  status: string;
  updatedAt: Date;
  closedAt: Date | null;
  /** The newest timeline entry. */
  lastEntryAt: Date;
}

/** A deterministic pseudo-random sequence, so that a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/**
 * `n` leads created over the last five years, in every status, updated and closed some whole days
 * later (plus 6 h, so that no date lies within hours of a rule's cutoff); a quarter also get a
 * recent note written without touching the lead, the case `updated_at` alone would miss. And
 * events and audit rows spread over three years. Returns what was written, to reckon with.
 */
async function seedYears(db: pg.Client, n: number, seed: number) {
  const rnd = random(seed);
  const now = Date.now();
  const leads: SeededLead[] = [];
  for (let i = 0; i < n; i++) {
    const createdAt = new Date(now - Math.floor(rnd() * 5 * 365) * DAY - 6 * 3600_000);
    const status = STATUSES[Math.floor(rnd() * STATUSES.length)]!;
    const updatedAt = new Date(Math.min(now - 6 * 3600_000, createdAt.getTime() + Math.floor(rnd() * 400) * DAY));
    const closedAt = CLOSED.includes(status) ? updatedAt : null;
    const recentNote = rnd() < 0.25 ? new Date(now - Math.floor(rnd() * 300) * DAY - 6 * 3600_000) : null;
    const { rows } = await db.query<{ id: string }>(
      `insert into lead.leads (id, name, email, phone, company, message, source, status, priority, created_at, updated_at, closed_at, lost_reason)
       values (gen_random_uuid(), $1, $2, '+15550100', 'Acme', 'Call me', 'website', $3, 'medium', $4, $5, $6, $7) returning id`,
      [`Person ${i}`, `person${i}@example.com`, status, createdAt, updatedAt, closedAt, status === 'closed_lost' ? 'price' : null],
    );
    const id = rows[0]!.id;
    await db.query(
      `insert into lead.lead_activities (id, lead_id, activity_type, description, created_at) values (gen_random_uuid(), $1, 'created', 'Lead created from website', $2)`,
      [id, createdAt],
    );
    let lastEntryAt = createdAt;
    if (recentNote && recentNote > createdAt) {
      await db.query(
        `insert into lead.lead_activities (id, lead_id, activity_type, description, performed_by, created_at)
         values (gen_random_uuid(), $1, 'note_added', 'Spoke again', '11111111-1111-4111-8111-111111111111', $2)`,
        [id, recentNote],
      );
      lastEntryAt = recentNote;
    }
    leads.push({ id, status, updatedAt, closedAt, lastEntryAt });
  }
  const events: Array<{ state: string; createdAt: Date; personal: boolean }> = [];
  for (const [i, lead] of leads.entries()) {
    const state = ['pending', 'delivered', 'dead'][i % 3]!;
    const createdAt = new Date(now - Math.floor(rnd() * 3 * 365) * DAY - 6 * 3600_000);
    // Some payloads were stripped already (by an erasure): nothing is left to strip in them.
    const personal = i % 7 !== 0;
    await db.query(
      `insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at)
       values (gen_random_uuid(), 'LeadCreated', $1::uuid, jsonb_build_object('event_type', 'LeadCreated', 'lead_id', $1::text, 'email', $2::text, 'source', 'website'), $3, 1, $4, $4)`,
      [lead.id, personal ? `person${i}@example.com` : null, state, createdAt],
    );
    events.push({ state, createdAt, personal });
  }
  const auditTimes = Array.from({ length: 60 }, () => new Date(now - Math.floor(rnd() * 3 * 365) * DAY - 6 * 3600_000));
  for (const at of auditTimes) {
    await db.query(
      `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, created_at)
       values (gen_random_uuid(), null, 'admin', 'leads.get', '{}', 'seed', '127.0.0.1', $1)`,
      [at],
    );
  }
  return { leads, events, auditTimes, now };
}

/** What the rules should match in the seeded data, reckoned here without the service's SQL. */
function reckon(seeded: Awaited<ReturnType<typeof seedYears>>) {
  const cutoff = (days: number) => seeded.now - days * DAY;
  const closed = seeded.leads.filter((l) => l.closedAt && l.closedAt.getTime() < cutoff(RULES.RETENTION_CLOSED_DAYS));
  const inactive = seeded.leads.filter(
    (l) => !closed.includes(l) && Math.max(l.updatedAt.getTime(), l.lastEntryAt.getTime()) < cutoff(RULES.RETENTION_INACTIVE_DAYS),
  );
  return {
    closed: closed.map((l) => l.id).sort(),
    inactive: inactive.map((l) => l.id).sort(),
    eventPayloads: seeded.events.filter(
      (e) => e.state !== 'pending' && e.personal && e.createdAt.getTime() < cutoff(RULES.EVENT_PAYLOAD_RETENTION_DAYS),
    ).length,
    auditRows: seeded.auditTimes.filter((t) => t.getTime() < cutoff(RULES.AUDIT_RETENTION_DAYS)).length,
  };
}

const env = RULES;

describe('retention', () => {
  let app: TestApp & { database: string };
  let token: string;

  beforeAll(async () => {
    app = await startTestApp({ env });
    token = await app.token('admin');
  });

  it('previews exactly what the next run erases, strips and drops, on data spread over five years', async () => {
    const seeded = await withClient(app.database, (db) => seedYears(db, 240, 15));
    const expected = reckon(seeded);
    // The data must exercise every rule, and the note that keeps an old lead active.
    expect(expected.closed.length).toBeGreaterThan(20);
    expect(expected.inactive.length).toBeGreaterThan(20);
    expect(
      seeded.leads.some((l) => l.updatedAt.getTime() < seeded.now - 180 * DAY && l.lastEntryAt.getTime() > seeded.now - 180 * DAY),
    ).toBe(true);

    const preview = await app.rest('GET', '/api/v1/privacy/retention', { token });
    expect(preview.status).toBe(200);
    expect(preview.body.rules).toEqual({
      closed_leads: { days: 365, would_erase: expected.closed.length },
      inactive_leads: { days: 180, would_erase: expected.inactive.length },
      event_payloads: { days: 30, would_strip: expected.eventPayloads },
      audit_rows: { days: 730, would_drop: expected.auditRows },
    });
    expect(preview.body.last_run).toBeNull();

    const job = createRetentionJob(
      app.orm,
      parseEnv(Object.fromEntries(Object.entries(RULES).map(([k, v]) => [k, String(v)]))),
      pino({ level: 'silent' }),
      { erasureHashSecret: TEST_SECRET },
    );
    const runId = await job.runOnce();
    expect(runId).not.toBeNull();

    const after = await app.rest('GET', '/api/v1/privacy/retention', { token });
    expect(after.body.last_run).toMatchObject({
      id: runId,
      outcome: 'completed',
      closed_leads: expected.closed.length,
      inactive_leads: expected.inactive.length,
      event_payloads: expected.eventPayloads,
      audit_rows: expected.auditRows,
      error: null,
    });
    // Nothing is left for the rules to do, and exactly the reckoned leads were erased.
    expect(after.body.rules).toEqual({
      closed_leads: { days: 365, would_erase: 0 },
      inactive_leads: { days: 180, would_erase: 0 },
      event_payloads: { days: 30, would_strip: 0 },
      audit_rows: { days: 730, would_drop: 0 },
    });
    const erased = await app.sql<{ id: string }>('select id from lead.leads where erased_at is not null order by id');
    expect(erased.map((r) => r.id)).toEqual([...expected.closed, ...expected.inactive].sort());
    // Each by the job, once, and with the rule as the reason in the trail.
    const reasons = await app.sql<{ reason: string; n: string }>(
      `select reason, count(*) as n from lead.audit_log where action = 'retention' group by reason order by reason`,
    );
    expect(reasons).toEqual([
      { reason: 'RETENTION_CLOSED_DAYS=365', n: String(expected.closed.length) },
      { reason: 'RETENTION_INACTIVE_DAYS=180', n: String(expected.inactive.length) },
    ]);
  });

  it('erases a lead by rule only if the rule still matches under its lock: one reopened after it was picked stays', async () => {
    const rules = { closedDays: 365, inactiveDays: null, eventPayloadDays: 30, auditDays: 730 };
    const [lead] = await app.sql<{ id: string }>(
      `insert into lead.leads (id, name, email, phone, source, status, priority, created_at, updated_at, closed_at)
       values (gen_random_uuid(), 'Picked Person', 'picked@example.com', '+1 555 0177', 'website', 'closed_lost', 'medium',
               now() - interval '900 days', now() - interval '800 days', now() - interval '800 days') returning id`,
    );
    const asOf = new Date();
    const db = Database.of(app.orm);
    expect(await new RetentionRepository(db).leadsToErase(rules, 'closed', asOf, 1000, [])).toContain(lead!.id);
    // Reopened between the pick and the erasure.
    await app.sql(`update lead.leads set status = 'contacted', closed_at = null, updated_at = now() where id = ?`, [lead!.id]);
    const privacy = new PrivacyRepository(db, { erasureHashSecret: TEST_SECRET });
    const actor = {
      actorSub: null,
      actorRole: 'system',
      action: 'retention',
      requestId: 'reopened',
      clientIp: 'internal',
      userAgent: null,
    };
    const onlyIfRule = (tx: Parameters<typeof ruleMatches>[0]) => ruleMatches(tx, rules, 'closed', asOf, lead!.id);
    expect(await privacy.eraseLeadIf(lead!.id, { actor, reason: 'rule', dryRun: false }, onlyIfRule)).toBeNull();
    expect(await app.sql('select name, phone, erased_at from lead.leads where id = ?', [lead!.id])).toEqual([
      { name: 'Picked Person', phone: '+1 555 0177', erased_at: null },
    ]);
    expect(await app.sql(`select 1 from lead.audit_log where request_id = 'reopened'`)).toEqual([]);
    expect(await app.sql(`select 1 from lead.erasures where lead_id = ?`, [lead!.id])).toEqual([]);
    // Closed again long enough: erased.
    await app.sql(`update lead.leads set status = 'closed_lost', closed_at = now() - interval '800 days' where id = ?`, [lead!.id]);
    expect(await privacy.eraseLeadIf(lead!.id, { actor, reason: 'rule', dryRun: false }, onlyIfRule)).toMatchObject({
      alreadyErased: false,
    });
    expect(await app.sql('select name from lead.leads where id = ?', [lead!.id])).toEqual([{ name: 'Erased' }]);
  });

  it('marks a run its process left behind as interrupted, and skips a run while another instance holds the lock', async () => {
    await app.sql(
      `insert into lead.retention_runs (id, started_at, outcome, rules) values ('00000000-0000-4000-8000-000000000001', now() - interval '1 day', 'running', '{}')`,
    );
    const job = createRetentionJob(app.orm, parseEnv({}), pino({ level: 'silent' }), { erasureHashSecret: TEST_SECRET });
    // Another instance's run: the same advisory lock, held on a connection of its own.
    const other = await withClient(app.database, async (c) => {
      await c.query('select pg_advisory_lock($1)', [RETENTION_LOCK_KEY]);
      return job.runOnce();
    });
    expect(other).toBeNull();
    const runId = await job.runOnce();
    const runs = await app.sql<{ id: string; outcome: string; finished: boolean }>(
      `select id, outcome, finished_at is not null as finished from lead.retention_runs where id in ('00000000-0000-4000-8000-000000000001', ?)`,
      [runId],
    );
    expect(runs.sort((a, b) => (a.id === runId ? 1 : b.id === runId ? -1 : 0))).toEqual([
      { id: '00000000-0000-4000-8000-000000000001', outcome: 'interrupted', finished: true },
      { id: runId, outcome: 'completed', finished: true },
    ]);
  });

  it('lets audit rows go only through the retention role: the service connection can delete, update or truncate none', async () => {
    await app.sql(
      `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, created_at)
       values (gen_random_uuid(), null, 'admin', 'leads.get', '{}', 'old', '127.0.0.1', now() - interval '5 years')`,
    );
    await expect(app.sql('delete from lead.audit_log')).rejects.toThrow(/append-only: DELETE/);
    await expect(app.sql(`update lead.audit_log set action = 'x'`)).rejects.toThrow(/append-only: UPDATE/);
    await expect(app.sql('truncate lead.audit_log')).rejects.toThrow(/append-only: TRUNCATE/);
    // The function itself refuses to drop rows younger than its floor.
    await expect(app.sql('select lead.prune_audit_log(89, 10)')).rejects.toThrow(/kept at least 90 days/);
    const [{ dropped }] = (await app.sql('select lead.prune_audit_log(730, 10) as dropped')) as [{ dropped: number }];
    expect(dropped).toBe(1);
  });

  it('keeps the role to itself: a login role without membership can neither become it nor call its function', async () => {
    await app.sql(
      `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, created_at)
       values (gen_random_uuid(), null, 'admin', 'leads.get', '{}', 'old', '127.0.0.1', now() - interval '5 years')`,
    );
    const role = uniqueName('lead_app');
    await admin((c) => c.query(`create role ${role} login`));
    try {
      await withClient(app.database, async (c) => {
        await c.query(`grant usage on schema lead to ${role}; grant select, insert, update, delete on lead.audit_log to ${role}`);
      });
      const url = new URL(databaseUrl(app.database));
      url.username = role;
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        await expect(client.query('delete from lead.audit_log')).rejects.toThrow(/append-only: DELETE/);
        await expect(client.query('set role lead_audit_retention')).rejects.toThrow(/permission denied/);
        await expect(client.query('select lead.prune_audit_log(730, 10)')).rejects.toThrow(/permission denied/);
      } finally {
        await client.end();
      }
    } finally {
      await withClient(app.database, (c) => c.query(`revoke all on lead.audit_log from ${role}; revoke all on schema lead from ${role}`));
      await admin((c) => c.query(`drop role ${role}`));
    }
  });
});

describe('retention in two instances', () => {
  let app: TestApp & { database: string };

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => stopServices());

  it('erases each lead once: runs never overlap, every lead has one erasure record and one LeadErased event', async () => {
    await app.sql(
      `insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at, closed_at)
       select gen_random_uuid(), 'Person ' || g, 'p' || g || '@example.com', 'website', 'closed_won', 'medium',
              now() - interval '3 years', now() - interval '2 years', now() - interval '2 years'
         from generate_series(1, 400) g`,
    );
    const serviceEnv = {
      DATABASE_URL: databaseUrl(app.database),
      AUTH_JWT_SECRET: TEST_SECRET,
      RETENTION_CLOSED_DAYS: '365',
      RETENTION_INTERVAL_MS: '1000',
      RETENTION_BATCH_SIZE: '20',
      LOG_LEVEL: 'INFO',
    };
    const services = [
      spawnService(serviceEnv, { unset: ['NOTIFICATION_SERVICE_URL'] }),
      spawnService(serviceEnv, { unset: ['NOTIFICATION_SERVICE_URL'] }),
    ];
    await Promise.all(services.map((s) => s.url()));
    await waitUntil(
      'every lead is erased',
      async () => Number((await app.sql<{ n: string }>('select count(*) as n from lead.leads where erased_at is null'))[0]!.n) === 0,
      60_000,
      200,
    );
    // Let both instances try again at least once more while there is nothing left.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await Promise.all(services.map((s) => s.stop('SIGTERM')))).toEqual([0, 0]);

    const perLead = await app.sql<{ erasures: string; events: string; audits: string }>(
      `select (select count(*) from lead.erasures e where e.lead_id = l.id) as erasures,
              (select count(*) from lead.outbox_events o where o.lead_id = l.id and o.event_type = 'LeadErased') as events,
              (select count(*) from lead.audit_log a where a.lead_ids @> array[l.id] and a.action = 'retention') as audits
         from lead.leads l`,
    );
    expect(perLead).toHaveLength(400);
    expect(perLead.every((r) => r.erasures === '1' && r.events === '1' && r.audits === '1')).toBe(true);
    // One run at a time: each started after the one before had finished.
    const runs = await app.sql<{ started: string; finished: string; outcome: string; closed_leads: number }>(
      `select extract(epoch from started_at)::float8 as started, extract(epoch from finished_at)::float8 as finished, outcome, closed_leads
         from lead.retention_runs order by started_at`,
    );
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.reduce((n, r) => n + r.closed_leads, 0)).toBe(400);
    expect(runs.every((r) => r.outcome === 'completed')).toBe(true);
    for (let i = 1; i < runs.length; i++) expect(Number(runs[i]!.started)).toBeGreaterThanOrEqual(Number(runs[i - 1]!.finished));
  });
});
