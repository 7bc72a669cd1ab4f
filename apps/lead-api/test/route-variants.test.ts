import { procedures, TRPC_PREFIX, type ProcedureEntry } from '@lead/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { rawRequest } from './support/raw-http.js';

/**
 * Policies hold on the route a request reaches, never on its URL's text: every spelling of
 * every procedure's target that is not the canonical one is refused by the gate before any
 * handler runs (or by Node's HTTP parser before Fastify sees it), and leaves nothing behind.
 * The targets come from the contracts, so a new contract is covered without editing this file.
 */

const WEBSITE = 'https://www.example.com';
const LEAD_ID = '01890f2e-0000-7000-8000-000000000001';

/** The REST target of a procedure, with its path parameters filled in. */
const restPath = ({ contract }: ProcedureEntry) => contract.meta.openapi.path.replace(/\{\w+\}/g, LEAD_ID);

const encodeFirst = (text: string, pattern: RegExp) =>
  text.replace(pattern, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/** Spellings of `path` that some router or proxy would read as `path` itself. */
function spellings(path: string, port: number): Array<[string, string]> {
  const [first = '', ...rest] = path.split('/').slice(1);
  const tail = rest.join('/');
  const capitalised = path.replace(/\/(\w)/g, (_, c: string) => `/${c.toUpperCase()}`);
  const variants: Array<[string, string]> = [
    ['upper case', path.toUpperCase()],
    ['capitalised', capitalised],
    ['a dot segment', `/${first}/./${tail}`],
    ['a dot-dot segment', `/${first}/x/../${tail}`],
    ['up from /docs', `/docs/..${path}`],
    ['a trailing /.', `${path}/.`],
    ['a trailing slash', `${path}/`],
    ['backslashes', `/${[first, ...rest].join('\\')}`],
    ['a leading doubled slash', `/${path}`],
    ['an inner doubled slash', `/${first}//${tail}`],
    ['an encoded slash', `/${first}%2F${tail}`],
    ['an encoded dot segment', `/${first}/%2e/${tail}`],
    ['an encoded dot-dot segment', `/${first}/x/%2E%2E/${tail}`],
    ['an encoded letter', encodeFirst(path, /[a-z]/)],
    ['the absolute form', `http://127.0.0.1:${port}${path}`],
    ['a fragment', `${path}#top`],
    // Combinations: each trick alone might be caught by a different rule.
    ['upper case and a dot segment', `/${first.toUpperCase()}/./${tail}`],
    ['capitalised, with backslashes', capitalised.replaceAll('/', '\\').replace(/^\\/, '/')],
    ['up from /docs, upper case', `/docs/..${path.toUpperCase()}`],
  ];
  if (path.includes('.')) {
    variants.push(['an encoded dot', encodeFirst(path, /\./)], ['a double-encoded dot', path.replace('.', '%252E')]);
  }
  // A one-segment path has no inner slash to play with.
  return variants.filter(([, target]) => target !== path);
}

interface Attempt {
  label: string;
  method: string;
  target: string;
  body?: string;
  headers?: Record<string, string>;
}

function attempts(entry: ProcedureEntry, port: number, token: string): Attempt[] {
  const { contract } = entry;
  const auth: Record<string, string> = contract.meta.roles.length ? { authorization: `Bearer ${token}` } : {};
  const json = { 'content-type': 'application/json' };
  const restMethod = contract.meta.openapi.method;
  const restBody = restMethod === 'GET' ? undefined : JSON.stringify(entry.path === 'leads.create' ? sampleLead() : {});
  const trpcMethod = contract.type === 'query' ? 'GET' : 'POST';
  const trpcBody = trpcMethod === 'GET' ? undefined : JSON.stringify(entry.path === 'leads.create' ? { json: sampleLead() } : { json: {} });
  const batchBody =
    trpcMethod === 'GET' ? undefined : JSON.stringify({ 0: JSON.parse(trpcBody!) as unknown, 1: JSON.parse(trpcBody!) as unknown });
  const out: Attempt[] = [];
  for (const [label, target] of spellings(restPath(entry), port)) {
    out.push({
      label: `REST ${restMethod} with ${label}`,
      method: restMethod,
      target,
      headers: { ...auth, ...json },
      ...(restBody ? { body: restBody } : {}),
    });
  }
  const trpcPath = `${TRPC_PREFIX}/${entry.path}`;
  for (const [label, target] of spellings(trpcPath, port)) {
    out.push({
      label: `tRPC with ${label}`,
      method: trpcMethod,
      target,
      headers: { ...auth, ...json },
      ...(trpcBody ? { body: trpcBody } : {}),
    });
    const batch = target.replace(entry.path, `${entry.path},${entry.path}`);
    out.push({
      label: `tRPC batch with ${label}`,
      method: trpcMethod,
      target: `${batch}${batch.includes('#') ? '' : '?batch=1'}`,
      headers: { ...auth, ...json },
      ...(batchBody ? { body: batchBody } : {}),
    });
  }
  return out;
}

let t: TestApp;
let port: number;
let token: string;
const counts = async () =>
  (
    await t.sql<{ leads: number; audit: number; events: number }>(
      `select (select count(*)::int from lead.leads) as leads, (select count(*)::int from lead.audit_log) as audit,
              (select count(*)::int from lead.outbox_events) as events`,
    )
  )[0]!;

beforeAll(async () => {
  t = await startTestApp({ env: { CORS_ORIGINS: [WEBSITE], RATE_LIMIT_CREATE_PER_HOUR: 5 } });
  port = Number(new URL(t.url).port);
  token = await t.token('admin');
  const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
  await t.sql('update lead.leads set id = ? where id = ?', [LEAD_ID, created.body.id]);
});

describe('a request target not in canonical form', () => {
  it.each(procedures.map((p) => [p.path, p] as const))(
    '%s: every other spelling is refused before any handler, and changes nothing',
    async (_path, entry) => {
      const before = await counts();
      const list = attempts(entry, port, token);
      for (const [i, attempt] of list.entries()) {
        const requestId = `variant-${entry.path}-${i}`;
        const res = await rawRequest(port, attempt.method, attempt.target, {
          headers: { ...attempt.headers, origin: WEBSITE, 'x-request-id': requestId },
          ...(attempt.body ? { body: attempt.body } : {}),
        });
        const where = `${attempt.label}: ${attempt.method} ${attempt.target}`;
        expect([400, 404, 405], where).toContain(res.status);
        // No router got it: the gate refused it (its log line names the request), or Node's parser
        // did before Fastify saw it (then the answer carries an id of its own).
        const refusedByGate = t
          .logs()
          .split('\n')
          .some((line) => line.includes(`"reqId":"${requestId}"`) && line.includes('"msg":"request target refused"'));
        const body = JSON.parse(res.body) as Record<string, any>;
        const answeredId = (body.request_id ?? body.error?.json?.data?.request_id) as string;
        expect(refusedByGate || answeredId !== requestId, where).toBe(true);
        expect(answeredId, where).toBe(res.headers['x-request-id']);
        expect(res.headers['cache-control'], where).toBe('no-store');
        expect(res.headers['content-security-policy'], where).toContain("default-src 'none'");
        expect(res.headers['x-content-type-options'], where).toBe('nosniff');
        expect(res.headers['access-control-allow-origin'], where).toBeUndefined();
      }
      expect(await counts()).toEqual(before);
    },
  );

  it('never spent the create budget: after the set-up create, the next canonical one leaves 3 of 5', async () => {
    const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
    expect(res.status).toBe(201);
    expect(res.headers.get('ratelimit-remaining')).toBe('3');
  });
});
