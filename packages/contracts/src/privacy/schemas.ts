import { z } from 'zod';
import { AuditEntry } from '../audit/schemas.js';
import { Timestamp, Uuid } from '../common/ids.js';
import { optionalText, strictBoolean, TEXT_LIMITS } from '../common/text.js';
import { LeadEvent } from '../events/schemas.js';
import { LeadDetail } from '../leads/schemas.js';

/** An address as leads are matched on it: surrounding spaces ignored, then case. */
const EmailAddress = z.string().trim().max(TEXT_LIMITS.email).check(z.email()).meta({ example: 'john@example.com' });

export const ExportInput = z.object({
  email: EmailAddress.meta({ description: 'The address to export everything about (matched trimmed, case-insensitively).' }),
});
export type ExportInput = z.input<typeof ExportInput>;

export const ERASURE_REASON_MAX = 500;

export const EraseInput = z
  .strictObject({
    email: EmailAddress.optional().meta({ description: 'Erase every lead with this address (trimmed, case-insensitive).' }),
    lead_id: Uuid.optional().meta({ description: 'Erase this one lead.' }),
    dry_run: strictBoolean().optional().meta({ description: 'Count what would be changed and change nothing (default false).' }),
    reason: optionalText(ERASURE_REASON_MAX).meta({
      description: 'Why, for the audit trail and the erasure record (e.g. a ticket number). Must not contain personal data.',
      example: 'GDPR request #1234',
    }),
  })
  .superRefine((input, ctx) => {
    if ((input.email === undefined) === (input.lead_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of email, lead_id' });
    }
  })
  .meta({ id: 'EraseInput', description: 'Exactly one of `email` and `lead_id`. Unknown fields are refused.' });
export type EraseInput = z.input<typeof EraseInput>;

const count = (description: string) => z.number().int().meta({ description });

export const ErasureCounts = z
  .object({
    leads: count('Leads anonymised (name, e-mail, phone, company, message).'),
    lead_attributions: count('Attributions whose URLs were removed.'),
    lead_consents: count('Consents whose page was removed.'),
    lead_activities: count('Activities whose text written by people was cleared.'),
    outbox_events: count('Events (pending, delivered or dead) whose personal fields were cleared.'),
    idempotency_keys: count('Idempotency keys of the submission removed.'),
  })
  .meta({ id: 'ErasureCounts', description: 'Rows changed (or, in a dry run, that would be changed) per table.' });
export type ErasureCounts = z.infer<typeof ErasureCounts>;

export const LeadErasure = z
  .object({
    lead_id: Uuid,
    already_erased: z.boolean().meta({ description: 'It had been erased before; the counts are then what was left (usually nothing).' }),
    erased_at: Timestamp.nullable().meta({ description: 'When it was (or had been) erased; null in a dry run of a lead not yet erased.' }),
    counts: ErasureCounts,
  })
  .meta({ id: 'LeadErasure' });
export type LeadErasure = z.infer<typeof LeadErasure>;

export const ErasureResult = z
  .object({
    dry_run: z.boolean(),
    leads: z.array(LeadErasure).meta({ description: 'One entry per lead erased (or that would be), oldest lead first.' }),
    totals: ErasureCounts,
  })
  .meta({ id: 'ErasureResult' });
export type ErasureResult = z.infer<typeof ErasureResult>;

export const ErasureRecord = z
  .object({
    lead_id: Uuid,
    erased_at: Timestamp,
    actor: Uuid.nullable().meta({ description: 'Who erased it (`sub`); null for a retention rule.' }),
    actor_role: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'ErasureRecord', description: 'Proof that a lead with this address was erased; the address itself is not kept.' });
export type ErasureRecord = z.infer<typeof ErasureRecord>;

export const ExportedLead = LeadDetail.extend({
  utm_source: z.string().nullable(),
  utm_medium: z.string().nullable(),
  utm_campaign: z.string().nullable(),
  events: z.array(LeadEvent).meta({ description: 'Events sent (or to be sent) about it, with their payloads, oldest first.' }),
}).meta({ id: 'ExportedLead', description: 'A lead with all its columns, attribution, consents, activities and events.' });
export type ExportedLead = z.infer<typeof ExportedLead>;

export const PersonalDataExport = z
  .object({
    leads: z.array(ExportedLead).meta({ description: 'Every lead with this address, oldest first.' }),
    audit: z.array(AuditEntry).meta({ description: 'Who read or changed those leads, oldest first (at most 10,000 entries).' }),
    audit_total: z.number().int().meta({ description: 'How many audit entries name those leads in all.' }),
    erased: z.boolean().meta({ description: 'Whether any lead with this address was erased (see `erasures`).' }),
    erasures: z.array(ErasureRecord).meta({ description: 'Erasures of leads that had this address, oldest first.' }),
  })
  .meta({ id: 'PersonalDataExport', description: 'Everything the service holds about one e-mail address.' });
export type PersonalDataExport = z.infer<typeof PersonalDataExport>;
