import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TEST_SECRET } from './support/app.js';
import { connect, createDatabase, databaseUrl, dropDatabase } from './support/database.js';
import { spawnService } from './support/service.js';
import { waitUntil } from './support/wait.js';

// The built service folds the count and stage changes writes append by itself (ops/fold.ts),
// two instances side by side, and what they fold equals a recount.

let dbName: string;
let db: pg.Client;

beforeAll(async () => {
  dbName = await createDatabase(inject('templateDatabase'));
  db = await connect(dbName);
});
afterAll(async () => {
  await db.end();
  await dropDatabase(dbName);
});

const pending = async () =>
  Number(
    (
      await db.query<{ n: string }>(
        'select (select count(*) from lead.lead_count_changes) + (select count(*) from lead.lead_stage_changes) as n',
      )
    ).rows[0]!.n,
  );

describe('the fold job', () => {
  it('leaves no change unfolded, with two instances folding, and the counts and stage rows equal a recount', async () => {
    const env = { DATABASE_URL: databaseUrl(dbName), AUTH_JWT_SECRET: TEST_SECRET, FOLD_INTERVAL_MS: '50', FOLD_BATCH_SIZE: '3' };
    const [one, two] = [spawnService(env), spawnService(env)];
    const urls = await Promise.all([one.url(), two.url()]);
    // Written by hand (the service's own writes are tested elsewhere): 40 leads, then 25 of them moved on.
    await db.query(`
      insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
      select gen_random_uuid(), 'Fold ' || i, 'fold' || i || '@example.com', (array['website', 'referral'])[1 + i % 2], 'new', 'medium', now(), now()
        from generate_series(1, 40) as i`);
    for (let i = 0; i < 25; i++) {
      await db.query(`
        with moved as (update lead.leads set status = 'contacted' where id = (select id from lead.leads where status = 'new' order by id limit 1) returning id)
        insert into lead.lead_activities (id, lead_id, activity_type, description, details, created_at)
        select gen_random_uuid(), id, 'status_changed', 'moved', '{"old_status": "new", "new_status": "contacted"}', now() from moved`);
    }
    await waitUntil('every change is folded', async () => (await pending()) === 0);

    const counts = await db.query(`select status, source, n::int from lead.lead_counts where n <> 0 order by 1, 2`);
    const recount = await db.query(`select status, source, count(*)::int as n from lead.leads group by 1, 2 order by 1, 2`);
    expect(counts.rows).toEqual(recount.rows);
    const rows = (from: string) => db.query(`select row(s.*)::text as r from ${from} s order by s.lead_id, s.position`).then((r) => r.rows);
    expect(await rows('lead.lead_stages')).toEqual(await rows('lead.lead_stage_rows'));
    expect((await rows('lead.lead_stages')).length).toBe(65);
    // Each count change was moved once, by one of the two: 40 creations, and 25 moves of two each.
    const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const scrape = () => Promise.all(urls.map(async (url) => (await fetch(`${url}/metrics`)).text()));
    const total = (texts: string[], kind: string) =>
      texts.reduce((sum, text) => sum + metric(text, `lead_folded_total\\{kind="${kind}"\\}`), 0);
    // The 40 leads' trigrams waited in the search index's pending list until a fold merged them.
    await waitUntil('the search index has no pending entries', async () => total(await scrape(), 'search_pages') > 0);
    expect(Number((await db.query(`select lead.lead_search_clean() as pages`)).rows[0].pages)).toBe(0);
    const scrapes = await scrape();
    expect(total(scrapes, 'counts')).toBe(90);
    expect(scrapes.every((text) => /lead_fold_duration_seconds_count\{outcome="done"\} [1-9]/.test(text))).toBe(true);
    expect(await Promise.all([one.stop(), two.stop()])).toEqual([0, 0]);
  }, 60_000);

  it('folds a backlog too large for one statement in pieces the statement timeout lets finish', async () => {
    // 30,000 leads written by one statement by hand: folding them at once takes about a second
    // (0.96 s on the fastest machine seen), past this service's statement timeout of 0.3 s.
    await db.query(`
      insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
      select gen_random_uuid(), 'Bulk ' || i, 'bulk' || i || '@example.com', 'other', 'new', 'low', now(), now()
        from generate_series(1, 30000) as i`);
    const env = {
      DATABASE_URL: databaseUrl(dbName),
      AUTH_JWT_SECRET: TEST_SECRET,
      FOLD_INTERVAL_MS: '50',
      FOLD_BATCH_SIZE: '100000',
      DB_STATEMENT_TIMEOUT_MS: '300',
    };
    const service = spawnService(env);
    const url = await service.url();
    await waitUntil('the backlog is folded', async () => (await pending()) === 0, 120_000);
    const scrape = await (await fetch(`${url}/metrics`)).text();
    // The first folds were cancelled (the whole backlog, then a quarter of it, …); smaller ones finished it.
    expect(Number(/^lead_fold_duration_seconds_count\{outcome="failed"\} (\d+)$/m.exec(scrape)?.[1] ?? 0)).toBeGreaterThan(0);
    const rows = (from: string) => db.query(`select row(s.*)::text as r from ${from} s order by s.lead_id, s.position`).then((r) => r.rows);
    expect(await rows('lead.lead_stages')).toEqual(await rows('lead.lead_stage_rows'));
    expect(await service.stop()).toBe(0);
  }, 180_000);
});
