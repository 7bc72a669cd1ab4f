import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { signDevToken } from '../src/auth.js';
import { createDatabase, databaseUrl, dropDatabase } from './support/database.js';
import { startReceiver, type Receiver } from './support/events.js';
import { SHARED_REDIS_URL } from './support/redis.js';
import { spawnService, type Service } from './support/service.js';
import { waitUntil } from './support/wait.js';

/**
 * The built service with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a real OTLP/HTTP receiver on
 * loopback: a lead's request, procedure, database and Redis spans arrive, so does its event's
 * delivery span linked back to that request, and nothing that was submitted appears in any of it.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string }>;
}

const SUBMITTED = {
  name: 'Quentin Tracewell',
  email: 'quentin.tracewell@example.com',
  phone: '+441632960777',
  company: 'Tracewell Widgets',
  message: 'Secret-Message-7731 please call',
};

let collector: Server;
const bodies: string[] = [];
const spans: OtlpSpan[] = [];
let receiver: Receiver;
let service: Service;
let url: string;
let database: string;

beforeAll(async () => {
  collector = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      bodies.push(`${req.url} ${raw}`);
      if (req.url === '/v1/traces') {
        const body = JSON.parse(raw) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  receiver = await startReceiver();
  database = await createDatabase(inject('templateDatabase'));
  service = spawnService({
    LOG_FORMAT: 'json',
    DATABASE_URL: databaseUrl(database),
    REDIS_URL: SHARED_REDIS_URL,
    NOTIFICATION_SERVICE_URL: receiver.url,
    AUTH_JWT_SECRET: 'x'.repeat(32),
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_SERVICE_NAME: 'lead-service-test',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  url = await service.url();
});

afterAll(async () => {
  await service?.stop();
  await receiver.close();
  collector.close();
  await dropDatabase(database);
});

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? v.intValue ?? v.boolValue) : undefined;
};

it('exports request, procedure, database, Redis and delivery spans, linked, without any submitted value', async () => {
  const res = await fetch(`${url}/api/v1/leads?utm_source=Secret-Campaign-42`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SUBMITTED),
  });
  expect(res.status).toBe(201);
  await waitUntil('the event is delivered', () => receiver.accepted.length === 1);
  const event = receiver.accepted[0]!;
  await waitUntil('the delivery span is exported', () => spans.some((s) => s.name === 'outbox deliver'), 15_000);

  const request = spans.find((s) => s.name === 'POST leads.create')!;
  expect(request).toBeDefined();
  expect(request.kind).toBe(2); // SERVER
  expect(attr(request, 'http.response.status_code')).toBe(201);
  const inTrace = spans.filter((s) => s.traceId === request.traceId);
  const procedure = inTrace.find((s) => s.name === 'procedure leads.create')!;
  expect(procedure.parentSpanId).toBe(request.spanId);
  // A create's statements: its address's lock, the statement writing the lead, its audit row.
  expect(inTrace.filter((s) => s.name.startsWith('pg ')).map((s) => s.name)).toEqual(
    expect.arrayContaining(['pg select', 'pg with', 'pg insert']),
  );
  expect(inTrace.some((s) => s.name.startsWith('redis '))).toBe(true);

  const delivery = spans.find((s) => s.name === 'outbox deliver')!;
  expect(attr(delivery, 'lead.event_id')).toBe(event.id);
  expect(attr(delivery, 'lead.event_type')).toBe('LeadCreated');
  expect(delivery.links).toEqual([expect.objectContaining({ traceId: request.traceId })]);
  // The receiver gets the delivery's own trace context.
  expect(event.headers.traceparent).toMatch(new RegExp(`^00-${delivery.traceId}-${delivery.spanId}-0[01]$`));

  const exported = bodies.join('\n');
  for (const submitted of [...Object.values(SUBMITTED), 'Secret-Campaign-42', 'utm_source', 'tracewell']) {
    expect(exported.toLowerCase()).not.toContain(submitted.toLowerCase());
  }
  // No SQL text or parameters: only the operation.
  expect(exported).not.toMatch(/insert into|values \(/i);
});

it('the address of a privacy export appears in no span and no log line', async () => {
  const address = 'Ursula.Exportwell@example.com';
  const token = await signDevToken('x'.repeat(32), { id: '11111111-1111-4111-8111-111111111111', role: 'admin' });
  for (const query of [`email=${encodeURIComponent(address)}`, `email=${address}`, `email=%20${address.toLowerCase()}`]) {
    const res = await fetch(`${url}/api/v1/privacy/export?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  }
  await waitUntil('the export spans are exported', () => spans.filter((s) => s.name === 'procedure privacy.export').length === 3, 15_000);
  const request = spans.find((s) => s.name === 'GET privacy.export')!;
  expect(request).toBeDefined();
  const seen = `${bodies.join('\n')}\n${service.output()}`.toLowerCase();
  for (const spelling of [address, encodeURIComponent(address), 'exportwell']) expect(seen).not.toContain(spelling.toLowerCase());
});

it("a failed procedure's span is an error naming the API's code: refused by its policies, or a domain error mapped", async () => {
  const token = await signDevToken('x'.repeat(32), { id: '22222222-2222-4222-8222-222222222222', role: 'admin' });
  const missing = await fetch(`${url}/api/v1/leads/00000000-0000-4000-8000-000000000000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(missing.status).toBe(404);
  const anonymous = await fetch(`${url}/api/v1/leads?limit=1`);
  expect(anonymous.status).toBe(401);
  const procedureSpan = (request: string) => {
    const outer = spans.find((s) => s.name === request);
    return outer && spans.find((s) => s.parentSpanId === outer.spanId && s.name.startsWith('procedure '));
  };
  await waitUntil('both procedure spans are exported', () => !!procedureSpan('GET leads.get') && !!procedureSpan('GET leads.list'), 15_000);
  for (const [request, code] of [
    ['GET leads.get', 'NOT_FOUND'],
    ['GET leads.list', 'UNAUTHORIZED'],
  ] as const) {
    const span = procedureSpan(request)! as OtlpSpan & { status?: { code?: number } };
    expect(span.status?.code).toBe(2); // ERROR
    expect(attr(span, 'lead.error_code')).toBe(code);
  }
});
