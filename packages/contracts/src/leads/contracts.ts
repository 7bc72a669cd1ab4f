import { defineContract, PUBLIC, type Role } from '../contract.js';
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
  UpdateLeadStatusInput,
} from './schemas.js';

const tags = ['Leads'];

/** Staff who work leads. `sales` see and change only the leads assigned to them. */
const STAFF: Role[] = ['admin', 'cms', 'sales'];
const NOT_FOUND_FOR_SALES = ' A lead not assigned to a `sales` caller answers 404, exactly like one that does not exist.';

export const leadContracts = {
  create: defineContract({
    type: 'mutation',
    input: CreateLeadInput,
    output: CreatedLead,
    roles: PUBLIC,
    method: 'POST',
    path: '/api/v1/leads',
    operationId: 'createLead',
    summary: 'Create a lead from a website enquiry',
    description: 'Public. Stores the enquiry as a `new` lead of `medium` priority.',
    tags,
    successStatus: 201,
    errors: [503],
  }),
  list: defineContract({
    type: 'query',
    input: ListLeadsInput,
    output: LeadPage,
    roles: STAFF,
    method: 'GET',
    path: '/api/v1/leads',
    operationId: 'listLeads',
    summary: 'List leads',
    description: 'Filters combine with AND. Newest first. A `sales` caller sees only the leads assigned to them.',
    tags,
  }),
  get: defineContract({
    type: 'query',
    input: LeadIdInput,
    output: LeadDetail,
    roles: STAFF,
    method: 'GET',
    path: '/api/v1/leads/{lead_id}',
    operationId: 'getLead',
    summary: 'Get a lead with its activities',
    description: `Every read is recorded in the audit trail.${NOT_FOUND_FOR_SALES}`,
    tags,
    errors: [404],
  }),
  updateStatus: defineContract({
    type: 'mutation',
    input: UpdateLeadStatusInput,
    output: LeadStatusResult,
    roles: STAFF,
    method: 'PATCH',
    path: '/api/v1/leads/{lead_id}/status',
    operationId: 'updateLeadStatus',
    summary: 'Move a lead through the pipeline',
    description:
      'Records a `status_changed` activity. Closing (`closed_won`, `closed_lost`) sets `closed_at`; reopening clears it. Setting the status the lead already has answers 409.' + NOT_FOUND_FOR_SALES,
    tags,
    errors: [404, 409],
  }),
  assign: defineContract({
    type: 'mutation',
    input: AssignLeadInput,
    output: LeadAssignment,
    roles: STAFF,
    method: 'POST',
    path: '/api/v1/leads/{lead_id}/assign',
    operationId: 'assignLead',
    summary: 'Assign a lead to a team member, or unassign it',
    description:
      'Records an `assigned` activity when the assignee changes. A `sales` caller may assign a lead to themselves or unassign it; assigning it to anyone else answers 403.' +
      NOT_FOUND_FOR_SALES,
    tags,
    errors: [404],
  }),
  addActivity: defineContract({
    type: 'mutation',
    input: AddActivityInput,
    output: Activity,
    roles: STAFF,
    method: 'POST',
    path: '/api/v1/leads/{lead_id}/activities',
    operationId: 'addLeadActivity',
    summary: 'Add a note or a contact to the lead timeline',
    description: NOT_FOUND_FOR_SALES.trim(),
    tags,
    successStatus: 201,
    errors: [404],
  }),
};
