// The yardstick: the same SQL work per endpoint as the Lead Service, with nothing else: node:http
// and a pg pool of the service's size, no framework, no ORM, no validation, no auth check, no
// logging. The benchmark drives it with the same wrk scripts in the same run, so the service's
// figures read as ratios to it, which hold on a noisy machine where absolute figures do not.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const ADMIN = '11111111-1111-4111-8111-111111111111';
const CLOSED = new Set(['closed_won', 'closed_lost']);

// uuid v7, as the service writes: time-ordered ids keep inserts local in the primary key index.
function uuidv7() {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The lead change's event, in the same transaction (as the service's outbox does). */
function recordEvent(client, type, leadId, fields, at) {
  const eventId = uuidv7();
  const payload = { event_id: eventId, event_type: type, lead_id: leadId, ...fields, timestamp: at.toISOString() };
  return client.query(
    `insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at)
     values ($1, $2, $3, $4, 'pending', 0, $5, $5)`,
    [eventId, type, leadId, payload, at],
  );
}

/** The audit row every call writes (in the change's transaction, or before a read answers). */
function audit(client, req, action, leadIds, actor) {
  return client.query(
    `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
    [uuidv7(), actor, actor ? 'admin' : null, action, leadIds, uuidv7(), clientIp(req), req.headers['user-agent'] ?? null],
  );
}

/** As the service sees it behind a trusted proxy on loopback. */
const clientIp = (req) =>
  String(req.headers['x-forwarded-for'] ?? req.socket.remoteAddress)
    .split(',')[0]
    .trim();

const LEAD_COLUMNS = 'id, name, email, phone, company, message, source, status, priority, assigned_to, created_at, updated_at, closed_at';

async function transaction(fn) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function create(req, body) {
  const input = JSON.parse(body);
  const id = uuidv7();
  const now = new Date();
  const source = input.source ?? 'website';
  await transaction(async (c) => {
    await c.query(`insert into lead.leads (${LEAD_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, 'new', 'medium', null, $8, $8, null)`, [
      id,
      input.name,
      input.email,
      input.phone || null,
      input.company || null,
      input.message || null,
      source,
      now,
    ]);
    await c.query(
      `insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
       values ($1, $2, 'created', $3, null, null, $4)`,
      [uuidv7(), id, `Lead created from ${source}`, now],
    );
    await recordEvent(c, 'LeadCreated', id, { email: input.email, source }, now);
    await audit(c, req, 'leads.create', [id], null);
  });
  return [201, { id, name: input.name, email: input.email, status: 'new', created_at: now }];
}

async function list(req, query) {
  const page = Number(query.get('page') ?? 1);
  const limit = Number(query.get('limit') ?? 20);
  const conditions = [];
  const params = [];
  for (const column of ['status', 'source', 'assigned_to']) {
    const value = query.get(column);
    if (value) {
      params.push(value);
      conditions.push(`${column} = $${params.length}`);
    }
  }
  const where = conditions.length ? ` where ${conditions.join(' and ')}` : '';
  const items = await pool.query(
    `select ${LEAD_COLUMNS} from lead.leads where id in (
       select id from lead.leads${where} order by created_at desc, id desc limit ${limit} offset ${(page - 1) * limit})
     order by created_at desc, id desc`,
    params,
  );
  const total = await pool.query(`select coalesce(sum(n), 0) as total from lead.lead_counts${where}`, params);
  await audit(
    pool,
    req,
    'leads.list',
    items.rows.map((r) => r.id),
    ADMIN,
  );
  return [200, { items: items.rows, total: Number(total.rows[0].total), page, limit }];
}

async function get(req, id) {
  const lead = await pool.query(`select ${LEAD_COLUMNS} from lead.leads where id = $1`, [id]);
  if (!lead.rows[0]) return [404, { code: 'NOT_FOUND' }];
  const activities = await pool.query(
    'select id, activity_type, description, details, performed_by, created_at from lead.lead_activities where lead_id = $1 order by created_at, id',
    [id],
  );
  await audit(pool, req, 'leads.get', [id], ADMIN);
  return [200, { ...lead.rows[0], activities: activities.rows }];
}

async function changeStatus(req, id, body) {
  const { status, notes } = JSON.parse(body);
  return transaction(async (c) => {
    const found = await c.query(`select ${LEAD_COLUMNS} from lead.leads where id = $1 for update`, [id]);
    const lead = found.rows[0];
    if (!lead) return [404, { code: 'NOT_FOUND' }];
    if (lead.status === status) return [409, { code: 'CONFLICT' }];
    const now = new Date();
    const closedAt = CLOSED.has(status) ? (lead.closed_at ?? now) : null;
    await c.query('update lead.leads set status = $1, updated_at = $2, closed_at = $3 where id = $4', [status, now, closedAt, id]);
    await c.query(
      `insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
       values ($1, $2, 'status_changed', $3, $4, $5, $6)`,
      [
        uuidv7(),
        id,
        notes || `Status changed from ${lead.status} to ${status}`,
        { old_status: lead.status, new_status: status },
        ADMIN,
        now,
      ],
    );
    await recordEvent(c, 'LeadStatusChanged', id, { old_status: lead.status, new_status: status }, now);
    await audit(c, req, 'leads.updateStatus', [id], ADMIN);
    return [200, { id, status, updated_at: now, closed_at: closedAt }];
  });
}

async function route(req, body) {
  const url = new URL(req.url, 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  if (url.pathname === '/health') {
    await pool.query('select 1');
    return [200, { status: 'ok', database: 'ok' }];
  }
  if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'leads') return [404, { code: 'NOT_FOUND' }];
  if (parts.length === 3 && req.method === 'POST') return create(req, body);
  if (parts.length === 3 && req.method === 'GET') return list(req, url.searchParams);
  if (parts.length === 4 && req.method === 'GET') return get(req, parts[3]);
  if (parts.length === 5 && parts[4] === 'status' && req.method === 'PATCH') return changeStatus(req, parts[3], body);
  return [404, { code: 'NOT_FOUND' }];
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    route(req, Buffer.concat(chunks).toString())
      .catch((error) => {
        console.error(error.message);
        return [500, { code: 'INTERNAL_SERVER_ERROR' }];
      })
      .then(([status, payload]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 3100), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
