import { readFile } from 'node:fs/promises';
import { defineContract, procedures, proceduresOf, PUBLIC, type Contract } from '@lead/contracts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildOpenApiDocument, COMMITTED_OPENAPI_FILE, serializeOpenApiDocument } from '../src/openapi.js';
import { implementPublic, router } from '../src/trpc.js';
import { startTestApp, type TestApp } from './support/app.js';
import { allProcedures } from './support/surfaces.js';

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

const STALE =
  'apps/lead-api/openapi.json is out of date: run `npm run openapi:update` at the repository root (or `pnpm --filter @lead/api run openapi:update`) and review the diff: it is a change to the public REST contract';

let t: TestApp;
let doc: any;
beforeAll(async () => {
  t = await startTestApp();
  const res = await t.rest('GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});

const allContracts = () => procedures.map((p) => p.contract);
const operationOf = (c: Contract) => doc.paths[c.meta.openapi.path]?.[c.meta.openapi.method.toLowerCase()];

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is, byte for byte, the committed apps/lead-api/openapi.json', async () => {
    const served = await (await fetch(`${t.url}/api/v1/openapi.json`)).text();
    expect(served, STALE).toBe(await readFile(COMMITTED_OPENAPI_FILE, 'utf8'));
  });

  it('the committed copy is what the contracts generate', async () => {
    const committed = await readFile(COMMITTED_OPENAPI_FILE, 'utf8').catch(() => '(missing)');
    expect(committed, STALE).toBe(serializeOpenApiDocument(buildOpenApiDocument()));
  });

  it('has one operation per contract, with its id, summary, tags and real success status', () => {
    for (const c of allContracts()) {
      const op = operationOf(c);
      expect(op, `${c.meta.openapi.method} ${c.meta.openapi.path}`).toBeDefined();
      expect(op).toMatchObject({ operationId: c.meta.openapi.operationId, summary: c.meta.openapi.summary, tags: c.meta.openapi.tags });
      expect(Object.keys(op.responses).filter((s) => s.startsWith('2'))).toEqual([String(c.meta.successStatus)]);
    }
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);
    expect(statuses('/api/v1/leads', 'post')).toEqual(expect.arrayContaining(['201', '400', '413', '415', '500', '503']));
    expect(statuses('/api/v1/leads/{lead_id}/activities', 'post')).toContain('201');
    expect(statuses('/api/v1/leads/{lead_id}/status', 'patch')).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    expect(statuses('/api/v1/leads', 'get')).not.toContain('413');
    expect(statuses('/health', 'get')).toEqual(['200', '408', '431', '500', '503']);
  });

  it('asks for the bearer token on protected operations and on nothing else', () => {
    for (const c of allContracts()) {
      const op = operationOf(c);
      if (c.meta.openapi.protect) {
        expect(op.security).toEqual([{ bearerAuth: [] }]);
        expect(op.responses).toHaveProperty('401');
        expect(op.responses).toHaveProperty('403');
      } else {
        expect(op.security).toEqual([]);
        expect(op.responses).not.toHaveProperty('401');
      }
    }
    expect(doc.paths['/api/v1/leads'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/openapi.json'].get.security).toEqual([]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('documents every error through the one shared ApiError schema, with the request id header', () => {
    for (const c of allContracts()) {
      const op = operationOf(c);
      for (const status of c.meta.openapi.errorResponses) {
        const response = op.responses[String(status)];
        expect(response.content['application/json'].schema, `${c.meta.openapi.operationId} ${status}`).toEqual({
          $ref: '#/components/schemas/ApiError',
        });
        expect(response.headers['X-Request-Id']).toEqual({ $ref: '#/components/headers/X-Request-Id' });
      }
    }
    expect(doc.components.schemas.Error).toBeUndefined();
    expect(doc.components.schemas.ApiError.required).toEqual(['code', 'message', 'request_id']);
    expect(doc.components.schemas.ApiError.properties.issues.items).toEqual({ $ref: '#/components/schemas/ValidationIssue' });
    expect(doc.paths['/api/v1/leads/{lead_id}/status'].patch.responses['409'].description).toBe('The lead already has this status');
    expect(Object.keys(doc.components.schemas).filter((n) => n.startsWith('error.'))).toEqual([]);
  });

  it('documents every timestamp as an ISO-8601 date-time string', () => {
    const found: string[] = [];
    for (const [name, schema] of Object.entries<any>(doc.components.schemas)) {
      for (const [prop, s] of Object.entries<any>(schema.properties ?? {})) {
        if (!prop.endsWith('_at')) continue;
        found.push(`${name}.${prop}`);
        const stringForm = s.anyOf ? s.anyOf.find((x: any) => x.type === 'string') : s;
        expect(stringForm, `${name}.${prop}`).toMatchObject({ type: 'string', format: 'date-time' });
      }
    }
    expect(found).toEqual(expect.arrayContaining(['LeadDetail.closed_at', 'Activity.created_at', 'CreatedLead.created_at']));
  });

  it("shows the spec's examples, each valid against its own schema", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addSchema(doc, 'doc');
    const checked: string[] = [];
    const pointer = (...parts: string[]) => `doc#/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const media: Array<[string, string[], any]> = [
          ['request', ['requestBody'], op.requestBody?.content?.['application/json']],
          ...Object.entries<any>(op.responses).map(([status, r]): [string, string[], any] => [
            status,
            ['responses', status],
            r.content?.['application/json'],
          ]),
        ];
        for (const [what, at, content] of media) {
          if (!content?.example) continue;
          const validate = ajv.compile({ $ref: pointer('paths', path, method, ...at, 'content', 'application/json', 'schema') });
          expect(validate(content.example), `${op.operationId} ${what}: ${JSON.stringify(validate.errors)}`).toBe(true);
          checked.push(`${op.operationId} ${what}`);
        }
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'createLead request',
        'createLead 201',
        'listLeads 200',
        'getLead 200',
        'updateLeadStatus request',
        'assignLead 200',
        'addLeadActivity 201',
        'getLead 404',
        'createLead 400',
      ]),
    );
    expect(doc.paths['/api/v1/leads'].post.requestBody.content['application/json'].example).toEqual({
      name: 'John Doe',
      email: 'john@example.com',
      phone: '+919876543210',
      company: 'Acme Corp',
      message: 'Interested in your services',
      source: 'website',
      attribution: expect.objectContaining({ utm_campaign: 'spring-sale' }),
    });
  });

  it('describes itself and names a relative server, so every host serves the same document', () => {
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(doc.paths['/api/v1/openapi.json'].get).toMatchObject({ operationId: 'getOpenApiDocument' });
  });
});

describe('the document is derived from the contracts', () => {
  // A procedure added later (rate limited, with its own 422), as other work adds them.
  const later = defineContract({
    type: 'mutation',
    input: z.object({ text: z.string() }),
    output: z.object({ ok: z.boolean() }),
    roles: PUBLIC,
    rateLimit: 'none',
    audit: 'none',
    method: 'POST',
    path: '/api/v1/later',
    operationId: 'later',
    summary: 'Added later',
    tags: ['Later'],
    successStatus: 201,
    errors: { 422: 'Not today', 429: 'Slow down' },
  });
  const laterRouter = router({ later: implementPublic(later, () => Promise.resolve({ ok: true })) });
  const derived: any = buildOpenApiDocument({
    router: laterRouter as never,
    procedures: proceduresOf({ later }),
    tagDescriptions: { Later: 'Added later.' },
  });
  const op = derived.paths['/api/v1/later'].post;

  it('documents a new operation with its own errors, 429 with its rate-limit headers', async () => {
    expect(Object.keys(op.responses)).toEqual(['201', '400', '408', '413', '415', '422', '429', '431', '500', '503']);
    expect(op.responses['422'].description).toBe('Not today');
    expect(Object.keys(op.responses['429'].headers)).toEqual([
      'X-Request-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
    expect(op.responses['201'].headers['RateLimit-Remaining']).toMatchObject({ required: false });
    expect(op.responses['429'].content['application/json'].example).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(derived.tags).toContainEqual({ name: 'Later', description: 'Added later.' });
    expect(derived.components.schemas.LaterBody).toMatchObject({ type: 'object', required: ['text'] });
    expect(op.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/LaterBody' });
    const result = await new Validator().validate(derived);
    expect(result.errors ?? []).toEqual([]);
  });

  it('refuses to build with a tag nobody described', () => {
    expect(() => buildOpenApiDocument({ router: laterRouter as never, procedures: proceduresOf({ later }) })).toThrow(/Later/);
  });

  it('documents abuse protection on the public create: 429 with its headers, 422, Idempotency-Key, the honeypot', () => {
    const post = doc.paths['/api/v1/leads'].post;
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '422', '429']));
    expect(Object.keys(post.responses['429'].headers)).toEqual(
      expect.arrayContaining(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After']),
    );
    expect(post.responses['429'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ApiError' });
    expect(Object.keys(post.responses['201'].headers)).toEqual(
      expect.arrayContaining(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Idempotent-Replayed']),
    );
    expect(post.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'header', name: 'Idempotency-Key', schema: expect.objectContaining({ maxLength: 255 }) }),
      ]),
    );
    const body = post.requestBody.content['application/json'].schema;
    const input = body.$ref ? doc.components.schemas[body.$ref.split('/').pop()] : body;
    expect(input.properties.website.description).toMatch(/^Leave empty/);
    expect(input.required).not.toContain('website');
  });

  it('documents the per-user 429 on admin operations', () => {
    const list = doc.paths['/api/v1/leads'].get;
    expect(list.responses['429'].headers['Retry-After']).toBeDefined();
  });
});

describe('access control in the OpenAPI document', () => {
  it.each(allProcedures())('%s: bearer security and 401/403/503 exactly when the contract names roles', (_path, contract) => {
    const { path, method } = contract.meta.openapi;
    const operation = doc.paths[path][method.toLowerCase()];
    const statuses = Object.keys(operation.responses);
    if (contract.meta.roles.length === 0) {
      expect(operation.security).toEqual([]);
      expect(statuses).not.toContain('401');
      expect(statuses).not.toContain('403');
    } else {
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      expect(statuses).toEqual(expect.arrayContaining(['401', '403', '503']));
      for (const role of contract.meta.roles) {
        expect(operation.description).toContain(`\`${role}\``);
        expect(operation.responses['403'].description).toContain(`\`${role}\``);
      }
    }
  });

  it('documents the audit trail as admin-only, and the sales rules where they apply', () => {
    const audit = doc.paths['/api/v1/audit'].get;
    expect(audit.description).toContain('Roles: `admin`.');
    expect(audit.parameters.map((p: { name: string }) => p.name)).toEqual(['lead_id', 'actor', 'from', 'to', 'page', 'limit']);
    expect(doc.paths['/api/v1/leads/{lead_id}'].get.responses['404'].description).toMatch(/not assigned/);
    expect(doc.paths['/api/v1/leads/{lead_id}/assign'].post.description).toMatch(/answers 403/);
    expect(doc.paths['/api/v1/leads/{lead_id}/assign'].post.responses['403'].description).toMatch(/`sales` caller assigns/);
    expect(audit.responses['403'].description).toBe("The token's role is not `admin`");
    expect(doc.components.securitySchemes.bearerAuth.description).toMatch(/RS256 or ES256.*AUTH_JWKS_URL.*HS256/);
    expect(doc.components.schemas.AuditEntry).toBeDefined();
  });
});
