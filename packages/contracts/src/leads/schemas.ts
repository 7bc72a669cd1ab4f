import { z } from 'zod';
import { Timestamp, Uuid } from '../common/ids.js';
import { PageLimit, PageNumber } from '../common/pagination.js';
import { optionalText, requiredText, TEXT_LIMITS } from '../common/text.js';
import { Attribution, AttributionInput, UtmFilters } from './attribution.js';
import { ActivityType, ClientActivityType, LeadPriority, LeadSource, LeadStatus } from './enums.js';

const LeadId = Uuid.meta({ description: 'The lead id.' });

// ---- inputs ---------------------------------------------------------------------------------

export const CreateLeadInput = z
  .object({
    name: requiredText(TEXT_LIMITS.name).meta({ example: 'John Doe' }),
    email: z.email().max(TEXT_LIMITS.email).meta({ example: 'john@example.com' }),
    phone: optionalText(TEXT_LIMITS.phone)
      .refine((v) => v == null || v === '' || /^\+?[0-9][0-9 ().-]{2,31}$/.test(v), {
        message: 'must be a phone number: digits, spaces, ( ) . - and an optional leading +',
      })
      .meta({ example: '+919876543210' }),
    company: optionalText(TEXT_LIMITS.company).meta({ example: 'Acme Corp' }),
    message: optionalText(TEXT_LIMITS.message).meta({ example: 'Interested in your services' }),
    source: LeadSource.optional().meta({
      description:
        'Where the lead came from. Left out, it is derived from `attribution` (`utm_medium`, then the referrer: see the README), else `website`.',
    }),
    attribution: AttributionInput.optional(),
    // A honeypot: named so that browser autofill (which has no "website" field type) leaves it
    // empty, while form-filling bots fill it. Submissions with it filled are answered as
    // created and dropped.
    website: z.string().max(2000).optional().meta({
      description:
        'Leave empty. Forms render this as an input hidden from people (off-screen, `tabindex="-1"`, `autocomplete="off"`, `aria-hidden`).',
    }),
  })
  .meta({
    id: 'CreateLeadInput',
    description:
      'An enquiry from the website form. Unknown fields are ignored (id, status, priority, assignee and timestamps are set by the service), except inside `attribution`, where they are refused.',
  });
export type CreateLeadInput = z.input<typeof CreateLeadInput>;

export const ListLeadsInput = z.object({
  status: LeadStatus.optional(),
  source: LeadSource.optional(),
  assigned_to: Uuid.meta({ description: 'Only leads assigned to this user.' }).optional(),
  ...UtmFilters,
  page: PageNumber,
  limit: PageLimit,
});
export type ListLeadsInput = z.input<typeof ListLeadsInput>;

export const LeadIdInput = z.object({ lead_id: LeadId });
export type LeadIdInput = z.input<typeof LeadIdInput>;

export const UpdateLeadStatusInput = z.object({
  lead_id: LeadId,
  status: LeadStatus.meta({ example: 'contacted' }),
  notes: optionalText(TEXT_LIMITS.notes).meta({ example: 'Called customer, interested in proposal' }),
});
export type UpdateLeadStatusInput = z.input<typeof UpdateLeadStatusInput>;

export const AssignLeadInput = z.object({
  lead_id: LeadId,
  assigned_to: Uuid.nullable().meta({ description: 'The user to assign the lead to, or null to unassign.' }),
});
export type AssignLeadInput = z.input<typeof AssignLeadInput>;

export const AddActivityInput = z.object({
  lead_id: LeadId,
  activity_type: ClientActivityType.meta({ example: 'note_added' }),
  description: requiredText(TEXT_LIMITS.description).meta({ example: 'Customer requested pricing information' }),
});
export type AddActivityInput = z.input<typeof AddActivityInput>;

// ---- outputs --------------------------------------------------------------------------------

export const CreatedLead = z
  .object({
    id: Uuid,
    name: z.string(),
    email: z.string(),
    status: LeadStatus,
    created_at: Timestamp,
  })
  .meta({ id: 'CreatedLead', description: 'The public answer to a submission: no other personal data leaves this endpoint.' });
export type CreatedLead = z.infer<typeof CreatedLead>;

export const LeadSummary = z
  .object({
    id: Uuid,
    name: z.string(),
    email: z.string(),
    company: z.string().nullable(),
    status: LeadStatus,
    source: LeadSource,
    priority: LeadPriority,
    assigned_to: Uuid.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'LeadSummary' });
export type LeadSummary = z.infer<typeof LeadSummary>;

export const LeadPage = z
  .object({
    items: z.array(LeadSummary),
    total: z.number().int().meta({ description: 'Number of leads matching the filters, over all pages.' }),
    page: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: 'LeadPage' });
export type LeadPage = z.infer<typeof LeadPage>;

export const Activity = z
  .object({
    id: Uuid,
    activity_type: ActivityType,
    description: z.string().nullable(),
    details: z
      .record(z.string(), z.string().nullable())
      .nullable()
      .meta({ description: 'Structured facts of service-written activities, e.g. `{old_status, new_status}`.' }),
    performed_by: Uuid.nullable().meta({ description: 'The user who did it; null for the website.' }),
    created_at: Timestamp,
  })
  .meta({ id: 'Activity' });
export type Activity = z.infer<typeof Activity>;

export const LeadDetail = z
  .object({
    id: Uuid,
    name: z.string(),
    email: z.string(),
    phone: z.string().nullable(),
    company: z.string().nullable(),
    message: z.string().nullable(),
    source: LeadSource,
    status: LeadStatus,
    priority: LeadPriority,
    assigned_to: Uuid.nullable(),
    attribution: Attribution.nullable().meta({ description: 'Null when the submission carried none.' }),
    activities: z.array(Activity).meta({ description: 'Oldest first.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    closed_at: Timestamp.nullable(),
  })
  .meta({ id: 'LeadDetail' });
export type LeadDetail = z.infer<typeof LeadDetail>;

export const LeadStatusResult = z
  .object({ id: Uuid, status: LeadStatus, updated_at: Timestamp, closed_at: Timestamp.nullable() })
  .meta({ id: 'LeadStatusResult' });
export type LeadStatusResult = z.infer<typeof LeadStatusResult>;

export const LeadAssignment = z.object({ id: Uuid, assigned_to: Uuid.nullable(), updated_at: Timestamp }).meta({ id: 'LeadAssignment' });
export type LeadAssignment = z.infer<typeof LeadAssignment>;
