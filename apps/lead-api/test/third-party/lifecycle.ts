// A third party's client: typed only by what openapi-typescript generates from the committed
// openapi.json (into ./generated, git-ignored), calling the service with openapi-fetch. Nothing
// here imports the service's own code or contracts. test/third-party-client.test.ts type-checks
// this file against the generated types, then runs it against the live service.
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/lead-api.js';

type Lead = components['schemas']['LeadDetail'];

export interface LifecycleOptions {
  baseUrl: string;
  token: string;
  assignee: string;
  fetch?: typeof globalThis.fetch;
}

export interface LifecycleResult {
  created: components['schemas']['CreatedLead'];
  createStatus: number;
  filtered: components['schemas']['LeadPage'];
  statuses: Array<{ status: components['schemas']['LeadStatus']; closed_at: string | null }>;
  assigned: components['schemas']['LeadAssignment'];
  activity: components['schemas']['Activity'];
  activityStatus: number;
  lead: Lead;
  unauthenticated: { status: number; error: components['schemas']['ApiError'] | undefined };
}

function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

export async function runLifecycle(opts: LifecycleOptions): Promise<LifecycleResult> {
  const fetch = opts.fetch ?? globalThis.fetch;
  const website = createClient<paths>({ baseUrl: opts.baseUrl, fetch });
  const cms = createClient<paths>({ baseUrl: opts.baseUrl, fetch, headers: { authorization: `Bearer ${opts.token}` } });

  const create = await website.POST('/api/v1/leads', {
    body: { name: 'Ada Lovelace', email: 'ada@example.com', company: 'Analytical Engines', message: 'A quote, please', source: 'referral' },
  });
  const created = ok(create, 'create');
  // Another lead, from the website, that the filters must leave out.
  ok(await website.POST('/api/v1/leads', { body: { name: 'Other', email: 'other@example.com' } }), 'create other');

  const filtered = ok(
    await cms.GET('/api/v1/leads', { params: { query: { status: 'new', source: 'referral', page: 1, limit: 10 } } }),
    'list',
  );

  const path = { lead_id: created.id };
  const statuses: LifecycleResult['statuses'] = [];
  for (const status of ['contacted', 'qualified', 'proposal', 'closed_won'] as const) {
    const changed = ok(
      await cms.PATCH('/api/v1/leads/{lead_id}/status', { params: { path }, body: { status, notes: `Now ${status}` } }),
      status,
    );
    statuses.push({ status: changed.status, closed_at: changed.closed_at });
  }

  const assigned = ok(
    await cms.POST('/api/v1/leads/{lead_id}/assign', { params: { path }, body: { assigned_to: opts.assignee } }),
    'assign',
  );
  const addActivity = await cms.POST('/api/v1/leads/{lead_id}/activities', {
    params: { path },
    body: { activity_type: 'contacted', description: 'Signed the contract on the phone' },
  });
  const activity = ok(addActivity, 'activity');
  const lead = ok(await cms.GET('/api/v1/leads/{lead_id}', { params: { path } }), 'get');

  const refused = await website.GET('/api/v1/leads/{lead_id}', { params: { path } });

  return {
    created,
    createStatus: create.response.status,
    filtered,
    statuses,
    assigned,
    activity,
    activityStatus: addActivity.response.status,
    lead,
    unauthenticated: { status: refused.response.status, error: refused.error },
  };
}

/**
 * Never run: calls the generated types must refuse. Each line fails to compile, or tsc reports
 * an unused directive, so the check above cannot pass on types that accept anything.
 */
export async function misuses(cms: ReturnType<typeof createClient<paths>>): Promise<void> {
  // @ts-expect-error the email is required
  await cms.POST('/api/v1/leads', { body: { name: 'No email' } });
  // @ts-expect-error not a status of the pipeline
  await cms.PATCH('/api/v1/leads/{lead_id}/status', { params: { path: { lead_id: 'x' } }, body: { status: 'won' } });
  // @ts-expect-error the path parameter is required
  await cms.GET('/api/v1/leads/{lead_id}', {});
  const notAnActivityClientsAdd = { activity_type: 'created', description: 'x' } as const;
  // @ts-expect-error clients may only add notes and contacts
  await cms.POST('/api/v1/leads/{lead_id}/activities', { params: { path: { lead_id: 'x' } }, body: notAnActivityClientsAdd });
  // @ts-expect-error no such operation
  await cms.DELETE('/api/v1/leads/{lead_id}', { params: { path: { lead_id: 'x' } } });
  const { data } = await cms.GET('/api/v1/leads/{lead_id}', { params: { path: { lead_id: 'x' } } });
  // @ts-expect-error timestamps are ISO strings over REST, not Dates
  data?.created_at.getTime();
}
