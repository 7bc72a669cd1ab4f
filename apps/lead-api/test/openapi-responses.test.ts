import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/openapi.js';
import { OpenApiResponseValidator, type ObservedResponse } from './support/openapi-validator.js';

// `rest()` (test/support/app.ts) runs every REST answer of every test through this validator;
// these show that it refuses what the document does not say.

const validator = new OpenApiResponseValidator(buildOpenApiDocument());
const LEAD_ID = '550e8400-e29b-41d4-a716-446655440000';

const json = (extra: Record<string, string> = {}) =>
  new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r-1', ...extra });
const statusResult = { id: LEAD_ID, status: 'contacted', lost_reason: null, updated_at: '2024-01-15T11:00:00.000Z', closed_at: null };
const patchStatus = (over: Partial<ObservedResponse>): ObservedResponse => ({
  method: 'PATCH',
  url: `/api/v1/leads/${LEAD_ID}/status`,
  status: 200,
  headers: json(),
  body: statusResult,
  ...over,
});

describe('the response validator', () => {
  it('accepts a response that is what the document says', () => {
    expect(validator.problems(patchStatus({}))).toEqual([]);
    expect(
      validator.problems({
        method: 'GET',
        url: '/api/v1/nope',
        status: 404,
        headers: json(),
        body: { code: 'NOT_FOUND', message: 'Not found', request_id: 'r-1' },
      }),
    ).toEqual([]);
  });

  it('refuses a status the operation does not document', () => {
    expect(validator.problems(patchStatus({ status: 202 }))).toEqual([
      expect.stringContaining('updateLeadStatus 202: status 202 is not documented'),
    ]);
    expect(validator.problems({ method: 'GET', url: '/api/v1/leads', status: 409, headers: json(), body: {} })[0]).toContain(
      'listLeads 409',
    );
  });

  it('refuses a body that does not match the schema of its status', () => {
    expect(validator.problems(patchStatus({ body: { ...statusResult, closed_at: undefined } })).join()).toContain(
      "must have required property 'closed_at'",
    );
    expect(validator.problems(patchStatus({ body: { ...statusResult, updated_at: 'yesterday' } })).join()).toContain(
      'must match format "date-time"',
    );
    expect(validator.problems(patchStatus({ body: { ...statusResult, status: 'won' } })).join()).toContain(
      '/status must be equal to one of the allowed values',
    );
    expect(validator.problems(patchStatus({ body: { ...statusResult, email: 'x@example.com' } })).join()).toContain(
      'must NOT have additional properties',
    );
    expect(validator.problems(patchStatus({ status: 404, body: { message: 'gone' } })).join()).toContain(
      "must have required property 'code'",
    );
  });

  it('refuses a missing required header or a body that is not JSON', () => {
    expect(validator.problems(patchStatus({ headers: new Headers({ 'content-type': 'application/json' }) }))).toEqual([
      expect.stringContaining('header X-Request-Id is documented as required but missing'),
    ]);
    expect(validator.problems(patchStatus({ headers: json({ 'content-type': 'text/plain' }) })).join()).toContain(
      'content-type is "text/plain"',
    );
  });

  it('refuses a success from a path the document does not have', () => {
    expect(validator.problems({ method: 'GET', url: '/api/v1/secret', status: 200, headers: json(), body: {} })).toEqual([
      'GET /api/v1/secret is in no operation of the document, yet answered 200',
    ]);
  });
});
