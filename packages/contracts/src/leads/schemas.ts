import { z } from 'zod';
import { Timestamp, Uuid } from '../common/ids.js';
import { PageLimit, PageNumber } from '../common/pagination.js';
import { optionalText, requiredText, TEXT_LIMITS } from '../common/text.js';
import { Attribution, AttributionInput, UtmFilters } from './attribution.js';
import { Consent, ConsentInput } from './consent.js';
import { ActivityType, ClientActivityType, LeadPriority, LeadSource, LeadStatus, LostReason } from './enums.js';

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
    consent: ConsentInput.optional(),
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

export const LEAD_SORTS = ['created_at', 'updated_at', 'priority', 'status', 'name'] as const;
export const LeadSort = z.enum(LEAD_SORTS).meta({
  id: 'LeadSort',
  description:
    'What the list is ordered by (default `created_at`): `priority` low → high, `status` in pipeline order, `name` ignoring case and accents. Ties are broken by id.',
});
export type LeadSort = z.infer<typeof LeadSort>;

export const ListLeadsInput = z.object({
  status: LeadStatus.optional(),
  source: LeadSource.optional(),
  assigned_to: Uuid.meta({ description: 'Only leads assigned to this user.' }).optional(),
  ...UtmFilters,
  lost_reason: LostReason.optional(),
  duplicates: z
    .enum(['exclude', 'only'])
    .optional()
    .meta({ description: '`exclude`: leave out leads detected as duplicates (`duplicate_of` set); `only`: only those.' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    .regex(/^[^\u0000-\u001f]*$/, 'must not contain control characters')
    .optional()
    .meta({
      description:
        'Search: a case- and accent-insensitive substring of the name, e-mail, company or message; a term of phone characters with at least 3 digits matches phone numbers by their digits.',
      example: 'acme',
    }),
  sort: LeadSort.optional(),
  order: z
    .enum(['asc', 'desc'])
    .optional()
    .meta({ description: 'Default `desc` (newest, highest, last first); `asc` with `updated_since`.' }),
  cursor: z.string().min(1).max(1000).optional().meta({
    description:
      'Keyset paging: the `next_cursor` of the previous page, with the same `sort` and `order`. Costs the same at any depth; `page` is then ignored.',
  }),
  updated_since: z.iso.datetime({ offset: true }).optional().meta({
    description:
      'Sync: leads written at or after this time (ISO 8601), in the order they were written; continue with `next_cursor`, which a sync always returns. Not combinable with `sort` or `order=desc`.',
    example: '2024-01-15T10:30:00Z',
  }),
  page: PageNumber,
  limit: PageLimit,
});
export type ListLeadsInput = z.input<typeof ListLeadsInput>;

export const LeadIdInput = z.object({ lead_id: LeadId });
export type LeadIdInput = z.input<typeof LeadIdInput>;

export const UpdateLeadStatusInput = z
  .object({
    lead_id: LeadId,
    status: LeadStatus.meta({ example: 'contacted' }),
    notes: optionalText(TEXT_LIMITS.notes).meta({ example: 'Called customer, interested in proposal' }),
    lost_reason: LostReason.optional().meta({ description: 'Required when `status` is `closed_lost`; refused with any other status.' }),
  })
  .superRefine((input, ctx) => {
    if (input.status === 'closed_lost' && !input.lost_reason) {
      ctx.addIssue({ code: 'custom', path: ['lost_reason'], message: 'is required when status is closed_lost' });
    }
    if (input.status !== 'closed_lost' && input.lost_reason) {
      ctx.addIssue({ code: 'custom', path: ['lost_reason'], message: 'is only allowed when status is closed_lost' });
    }
  });
export type UpdateLeadStatusInput = z.input<typeof UpdateLeadStatusInput>;

const EDITABLE_FIELDS = ['name', 'email', 'phone', 'company', 'message', 'priority'] as const;

export const UpdateLeadInput = z
  .object({
    lead_id: LeadId,
    name: requiredText(TEXT_LIMITS.name).optional().meta({ example: 'John Doe' }),
    email: z.email().max(TEXT_LIMITS.email).optional().meta({ example: 'john.doe@example.com' }),
    phone: optionalText(TEXT_LIMITS.phone)
      .refine((v) => v == null || v === '' || /^\+?[0-9][0-9 ().-]{2,31}$/.test(v), {
        message: 'must be a phone number: digits, spaces, ( ) . - and an optional leading +',
      })
      .meta({ description: 'null or empty clears it.', example: '+919876543210' }),
    company: optionalText(TEXT_LIMITS.company).meta({ description: 'null or empty clears it.' }),
    message: optionalText(TEXT_LIMITS.message).meta({ description: 'null or empty clears it.' }),
    priority: LeadPriority.optional(),
  })
  .superRefine((input, ctx) => {
    if (!EDITABLE_FIELDS.some((field) => input[field] !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: `give at least one of ${EDITABLE_FIELDS.join(', ')}` });
    }
  });
export type UpdateLeadInput = z.input<typeof UpdateLeadInput>;

export const MergeLeadInput = z.object({
  lead_id: LeadId.meta({ description: 'The lead to merge away (the duplicate).' }),
  into: Uuid.meta({ description: 'The lead that remains and receives the timeline.' }),
});
export type MergeLeadInput = z.input<typeof MergeLeadInput>;

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
    lost_reason: LostReason.nullable(),
    duplicate_of: Uuid.nullable().meta({
      description: 'The older open lead with the same e-mail, when this one was detected as its duplicate.',
    }),
    merged_into: Uuid.nullable().meta({ description: 'The lead this one was merged into.' }),
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
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null after the last one. A sync (`updated_since`) always returns one.' }),
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
    lost_reason: LostReason.nullable(),
    duplicate_of: Uuid.nullable().meta({
      description: 'The older open lead with the same e-mail, when this one was detected as its duplicate.',
    }),
    merged_into: Uuid.nullable().meta({ description: 'The lead this one was merged into.' }),
    attribution: Attribution.nullable().meta({ description: 'Null when the submission carried none.' }),
    activities: z.array(Activity).meta({ description: 'Oldest first.' }),
    consents: z.array(Consent).meta({ description: 'Consents given with its submission, oldest first.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    closed_at: Timestamp.nullable(),
    erased_at: Timestamp.nullable().meta({
      description: 'When its personal data was erased (`privacy.erase`); null while it holds any.',
    }),
  })
  .meta({ id: 'LeadDetail' });
export type LeadDetail = z.infer<typeof LeadDetail>;

export const LeadStatusResult = z
  .object({ id: Uuid, status: LeadStatus, lost_reason: LostReason.nullable(), updated_at: Timestamp, closed_at: Timestamp.nullable() })
  .meta({ id: 'LeadStatusResult' });
export type LeadStatusResult = z.infer<typeof LeadStatusResult>;

export const LeadAssignment = z.object({ id: Uuid, assigned_to: Uuid.nullable(), updated_at: Timestamp }).meta({ id: 'LeadAssignment' });
export type LeadAssignment = z.infer<typeof LeadAssignment>;
