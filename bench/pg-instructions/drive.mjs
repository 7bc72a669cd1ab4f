/**
 * Drives the repository's own create or status change (`LeadRepository`, the statements the
 * service sends, pipelined as it sends them) over one connection, for `measure.sh`:
 * `drive.mjs <create|status> <transactions> <database url> <file of lead ids, for status>`.
 * The GIN pending list is cleaned before and after, and the appended count and stage changes are
 * folded after (unless NO_FOLD is set), so that each run pays for the upkeep it caused. Prints
 * the process id of the backend that served it (the pool holds that one connection throughout).
 */
import { readFileSync } from 'node:fs';
// Run with tsx, which loads the package's TypeScript source.
import { createOrm, Database, LeadRepository, UpkeepRepository } from '../../packages/db/src/index.ts';

const [kind, count, clientUrl, idsFile] = process.argv.slice(2);
const transactions = Number(count);
const orm = await createOrm({ clientUrl, pool: { min: 1, max: 1 } });
const db = Database.of(orm);
const leads = new LeadRepository(db);
// The search index's pending list merged, as the service's fold merges it (`UpkeepRepository.fold`).
const cleanPendingList = () => db.query('select lead.lead_search_clean()');
/** An `AuditEntry` as the server builds one. */
const audit = (action, actorSub) => ({
  actorSub,
  actorRole: actorSub ? 'admin' : null,
  action,
  requestId: 'pg-instructions',
  clientIp: '10.0.0.1',
  userAgent: 'pg-instructions',
});
const actor = '00000000-0000-0000-0000-000000000001';

const [{ pid }] = await db.query('select pg_backend_pid() as pid');
await cleanPendingList();
if (kind === 'create') {
  // The bench's create body (wrk/lead.lua): no attribution, no consent.
  for (let n = 0; n < transactions; n++) {
    await leads.create(
      {
        name: `Bench Lead ${n}`,
        email: `bench${n}@example.com`,
        phone: `+91987654${String(n % 10000).padStart(4, '0')}`,
        company: `Bench Co ${n % 500}`,
        message: `Interested in your services, request ${n}`,
        source: 'website',
        attribution: null,
      },
      audit('leads.create', null),
      { duplicateWindowDays: 30 },
    );
  }
} else if (kind === 'status') {
  const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
  if (ids.length < transactions) throw new Error(`${idsFile} holds ${ids.length} leads, fewer than ${transactions}`);
  for (const id of ids.slice(0, transactions)) {
    await leads.changeStatus(id, 'contacted', { scope: {}, audit: audit('leads.updateStatus', actor), notes: null, actor });
  }
} else throw new Error(`unknown kind ${kind}: create or status`);
await cleanPendingList();
// The count and stage changes the triggers appended are folded as the service's fold job folds
// them, in batches until none is left, so that each run pays for the upkeep it caused too.
const upkeep = new UpkeepRepository(db);
if (!process.env.NO_FOLD) while ((await upkeep.fold(1000)).leads > 0);
await orm.close();
console.log(pid);
