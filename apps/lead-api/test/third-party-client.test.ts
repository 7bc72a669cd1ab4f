import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMITTED_OPENAPI_FILE } from '../src/openapi.js';
import { startTestApp, type TestApp } from './support/app.js';
import { assertDocumentedResponse } from './support/openapi-validator.js';
import { typeCheck } from './support/typecheck.js';

// The third party's toolchain: openapi-typescript turns the COMMITTED document into types,
// tsc checks the client (test/third-party/lifecycle.ts) against them, openapi-fetch runs it.

const harness = fileURLToPath(new URL('./third-party/lifecycle.ts', import.meta.url));
const generated = fileURLToPath(new URL('./third-party/generated/lead-api.d.ts', import.meta.url));
const ASSIGNEE = '22222222-2222-4222-8222-222222222222';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await mkdir(fileURLToPath(new URL('./third-party/generated/', import.meta.url)), { recursive: true });
  const cli = join(dirname(createRequire(import.meta.url).resolve('openapi-typescript/package.json')), 'bin/cli.js');
  await promisify(execFile)(process.execPath, [cli, fileURLToPath(COMMITTED_OPENAPI_FILE), '--output', generated]);
});

describe('a client generated from the committed openapi.json', () => {
  it('type-checks the whole lifecycle, and refuses calls the API would refuse', { timeout: 90_000 }, () => {
    expect(typeCheck([harness])).toEqual([]);
  });

  it('runs the whole lead lifecycle against the live service', async () => {
    // Not a literal: tsc (in `npm test`) must not follow it to types generated only at test time.
    const modulePath = './third-party/lifecycle.js';
    const { runLifecycle } = (await import(/* @vite-ignore */ modulePath)) as {
      runLifecycle: (opts: { baseUrl: string; token: string; assignee: string; fetch: typeof fetch }) => Promise<any>;
    };
    // Its answers are held to the document too, like every other REST answer in the tests.
    const documentedFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const res = await fetch(request);
      const text = await res.clone().text();
      const url = new URL(request.url);
      assertDocumentedResponse({
        method: request.method,
        url: url.pathname + url.search,
        status: res.status,
        headers: res.headers,
        body: text ? JSON.parse(text) : undefined,
      });
      return res;
    };

    const r = await runLifecycle({ baseUrl: t.url, token: await t.token(), assignee: ASSIGNEE, fetch: documentedFetch });

    expect(r.createStatus).toBe(201);
    expect(r.created).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', status: 'new' });
    expect(r.filtered.items.map((l: { id: string }) => l.id)).toEqual([r.created.id]);
    expect(r.filtered).toMatchObject({ total: 1, page: 1, limit: 10 });
    expect(r.statuses.map((s: { status: string }) => s.status)).toEqual(['contacted', 'qualified', 'proposal', 'closed_won']);
    expect(r.statuses.slice(0, 3).every((s: { closed_at: string | null }) => s.closed_at === null)).toBe(true);
    expect(r.statuses[3].closed_at).toEqual(expect.any(String));
    expect(r.assigned).toMatchObject({ id: r.created.id, assigned_to: ASSIGNEE });
    expect(r.activityStatus).toBe(201);
    expect(r.activity).toMatchObject({ activity_type: 'contacted', description: 'Signed the contract on the phone' });
    expect(r.lead).toMatchObject({
      id: r.created.id,
      status: 'closed_won',
      assigned_to: ASSIGNEE,
      company: 'Analytical Engines',
      closed_at: r.statuses[3].closed_at,
    });
    expect(r.lead.activities.map((a: { activity_type: string }) => a.activity_type)).toEqual([
      'created',
      'status_changed',
      'status_changed',
      'status_changed',
      'status_changed',
      'assigned',
      'contacted',
    ]);
    expect(r.unauthenticated).toMatchObject({ status: 401, error: { code: 'UNAUTHORIZED', request_id: expect.any(String) } });
  });
});
