import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { allProcedures } from './support/surfaces.js';

let t: TestApp;
let doc: any;
beforeAll(async () => {
  t = await startTestApp();
  const res = await t.rest('GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('states the real success status of every operation', () => {
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);
    expect(statuses('/api/v1/leads', 'post')).toContain('201');
    expect(statuses('/api/v1/leads', 'post')).not.toContain('200');
    expect(statuses('/api/v1/leads/{lead_id}/activities', 'post')).toContain('201');
    expect(statuses('/api/v1/leads', 'get')).toContain('200');
    expect(statuses('/api/v1/leads/{lead_id}/assign', 'post')).toContain('200');
    expect(statuses('/api/v1/leads/{lead_id}/status', 'patch')).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    expect(statuses('/health', 'get')).toContain('200');
  });

  it('documents errors with the one shared Error schema, and bearer auth on admin operations only', () => {
    const get = doc.paths['/api/v1/leads/{lead_id}'].get;
    expect(get.responses['404'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.components.schemas.Error.required).toEqual(expect.arrayContaining(['code', 'message', 'request_id']));
    expect(get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/v1/leads'].post.security).toBeUndefined();
  });
});

describe('access control in the OpenAPI document', () => {
  it.each(allProcedures())('%s: bearer security and 401/403/503 exactly when the contract names roles', (_path, contract) => {
    const { path, method } = contract.meta.openapi;
    const operation = doc.paths[path][method.toLowerCase()];
    const statuses = Object.keys(operation.responses);
    if (contract.meta.roles.length === 0) {
      expect(operation.security).toBeUndefined();
      expect(statuses).not.toContain('401');
      expect(statuses).not.toContain('403');
    } else {
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      expect(statuses).toEqual(expect.arrayContaining(['401', '403', '503']));
      for (const role of contract.meta.roles) expect(operation.description).toContain(`\`${role}\``);
    }
  });

  it('documents the audit trail as admin-only, and the sales rules where they apply', () => {
    const audit = doc.paths['/api/v1/audit'].get;
    expect(audit.description).toContain('Roles: `admin`.');
    expect(audit.parameters.map((p: { name: string }) => p.name)).toEqual(['lead_id', 'actor', 'from', 'to', 'page', 'limit']);
    expect(doc.paths['/api/v1/leads/{lead_id}'].get.responses['404'].description).toMatch(/not assigned/);
    expect(doc.paths['/api/v1/leads/{lead_id}/assign'].post.description).toMatch(/answers 403/);
    expect(doc.components.schemas.AuditEntry).toBeDefined();
  });
});
