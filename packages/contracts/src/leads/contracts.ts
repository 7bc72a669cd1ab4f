import { z } from 'zod';
import { defineContract, PUBLIC, type Role } from '../contract.js';
import { CREATE_LEAD_PATH } from '../routes.js';
import { leadExamples } from './examples.js';
import {
  Activity,
  AddActivityInput,
  AssignLeadInput,
  CreatedLead,
  CreateLeadInput,
  LeadAssignment,
  LeadDetail,
  LeadIdInput,
  LeadPage,
  LeadStatusResult,
  ListLeadsInput,
  MergeLeadInput,
  UpdateLeadInput,
  UpdateLeadStatusInput,
} from './schemas.js';

const tags = ['Leads'];
const NO_SUCH_LEAD = 'No lead has this id, or (for `sales`) a lead not assigned to the caller';

/** Staff who work leads. `sales` see and change only the leads assigned to them. */
const STAFF: Role[] = ['admin', 'cms', 'sales'];
const NOT_FOUND_FOR_SALES = ' A lead not assigned to a `sales` caller answers 404, exactly like one that does not exist.';

export const leadContracts = {
  create: defineContract({
    type: 'mutation',
    input: CreateLeadInput,
    output: CreatedLead,
    roles: PUBLIC,
    rateLimit: 'create',
    cors: 'public',
    audit: { kind: 'change', leadIds: ({ output }) => [output.id] },
    method: 'POST',
    path: CREATE_LEAD_PATH,
    operationId: 'createLead',
    summary: 'Create a lead from a website enquiry',
    description:
      'Public. Stores the enquiry as a `new` lead of `medium` priority. Limited per client address ' +
      '(IPv6: per /64) to a number of requests an hour, valid or not (default 10); beyond it 429 with `Retry-After`. ' +
      'Resending with the same `Idempotency-Key` and body within 24 hours answers the first response again ' +
      '(header `Idempotent-Replayed: true`) instead of creating another lead; the same key with another body answers 422.',
    examples: leadExamples.create,
    tags,
    successStatus: 201,
    errors: {
      422: 'The `Idempotency-Key` was already used with a different body',
      429: 'Too many create requests from this client address this hour',
    },
    requestHeaders: z.object({
      'Idempotency-Key': z
        .string()
        .min(1)
        .max(255)
        .optional()
        .meta({ description: 'Any unique string (e.g. a UUID) per submission, so that retries create one lead.' }),
    }),
  }),
  list: defineContract({
    type: 'query',
    input: ListLeadsInput,
    output: LeadPage,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'read', leadIds: ({ output }) => output.items.map((lead) => lead.id) },
    method: 'GET',
    path: '/api/v1/leads',
    operationId: 'listLeads',
    summary: 'List leads',
    description:
      'Filters (and `q`) combine with AND. Newest first unless `sort`/`order` say otherwise; ties by id. Page by `page` ' +
      '(offset) or by `cursor` (keyset: `next_cursor` of the previous page, the same cost at any depth). `updated_since` ' +
      'starts an incremental sync: leads in the order they were written, continued with `next_cursor`, which then is ' +
      'always given; each change is returned once it is committed, after everything returned before it, even when an ' +
      'earlier-started change commits late. `total` is exact. A `sales` caller sees only the leads assigned to them.',
    examples: leadExamples.list,
    tags,
  }),
  get: defineContract({
    type: 'query',
    input: LeadIdInput,
    output: LeadDetail,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'read', leadIds: ({ output }) => [output.id] },
    method: 'GET',
    path: '/api/v1/leads/{lead_id}',
    operationId: 'getLead',
    summary: 'Get a lead with its activities',
    description: `Every read is recorded in the audit trail.${NOT_FOUND_FOR_SALES}`,
    examples: leadExamples.get,
    tags,
    errors: { 404: NO_SUCH_LEAD },
  }),
  updateStatus: defineContract({
    type: 'mutation',
    input: UpdateLeadStatusInput,
    output: LeadStatusResult,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'change', leadIds: ({ output }) => [output.id] },
    method: 'PATCH',
    path: '/api/v1/leads/{lead_id}/status',
    operationId: 'updateLeadStatus',
    summary: 'Move a lead through the pipeline',
    description:
      'Records a `status_changed` activity. Closing (`closed_won`, `closed_lost`) sets `closed_at`; reopening clears it. `closed_lost` needs a `lost_reason`, which any other status clears. Setting the status the lead already has answers 409.' +
      NOT_FOUND_FOR_SALES,
    examples: leadExamples.updateStatus,
    tags,
    errors: { 404: NO_SUCH_LEAD, 409: 'The lead already has this status' },
  }),
  update: defineContract({
    type: 'mutation',
    input: UpdateLeadInput,
    output: LeadDetail,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'change', leadIds: ({ output }) => [output.id] },
    method: 'PATCH',
    path: '/api/v1/leads/{lead_id}',
    operationId: 'updateLead',
    summary: 'Correct a lead: name, e-mail, phone, company, message, priority',
    description:
      'Give any of the fields; `null` or empty clears phone, company and message. A real change records an `updated` activity and a `LeadUpdated` event naming the changed fields (not their values).' +
      NOT_FOUND_FOR_SALES,
    examples: leadExamples.update,
    tags,
    errors: { 404: NO_SUCH_LEAD, 409: 'The lead was erased: its name, e-mail, phone, company and message cannot be set again' },
  }),
  merge: defineContract({
    type: 'mutation',
    input: MergeLeadInput,
    output: LeadDetail,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'change', leadIds: ({ input }) => [input.lead_id, input.into] },
    method: 'POST',
    path: '/api/v1/leads/{lead_id}/merge',
    operationId: 'mergeLead',
    summary: 'Merge a duplicate into another lead',
    description:
      'In one transaction: the activities of `lead_id` move to `into` with their original times, empty phone, company and message of `into` are filled from it (its attribution too, if `into` has none), its consents are copied to `into`, and `lead_id` is closed as `closed_lost` / `duplicate` with `merged_into`. Emits `LeadMerged` (and `LeadStatusChanged` for the closed lead). Answers the lead merged into.' +
      NOT_FOUND_FOR_SALES,
    examples: leadExamples.merge,
    tags,
    errors: {
      400: 'A lead cannot be merged into itself, or the input is invalid',
      404: 'Either lead does not exist or (for `sales`) is not assigned to the caller',
      409: 'Either lead was already merged, the two are assigned to different users, or `into` was erased',
    },
  }),
  assign: defineContract({
    type: 'mutation',
    input: AssignLeadInput,
    output: LeadAssignment,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'change', leadIds: ({ output }) => [output.id] },
    method: 'POST',
    path: '/api/v1/leads/{lead_id}/assign',
    operationId: 'assignLead',
    summary: 'Assign a lead to a team member, or unassign it',
    description:
      'Records an `assigned` activity when the assignee changes. A `sales` caller may assign a lead to themselves or unassign it; assigning it to anyone else answers 403.' +
      NOT_FOUND_FOR_SALES,
    examples: leadExamples.assign,
    tags,
    errors: { 403: 'a `sales` caller assigns the lead to someone other than themselves', 404: NO_SUCH_LEAD },
  }),
  addActivity: defineContract({
    type: 'mutation',
    input: AddActivityInput,
    output: Activity,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'change', leadIds: ({ input }) => [input.lead_id] },
    method: 'POST',
    path: '/api/v1/leads/{lead_id}/activities',
    operationId: 'addLeadActivity',
    summary: 'Add a note or a contact to the lead timeline',
    description: NOT_FOUND_FOR_SALES.trim(),
    examples: leadExamples.addActivity,
    tags,
    successStatus: 201,
    errors: { 404: NO_SUCH_LEAD },
  }),
};
