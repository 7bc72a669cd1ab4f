import { z } from 'zod';
import { Instant, Timestamp, Uuid } from '../common/ids.js';
import { PageLimit, PageNumber } from '../common/pagination.js';

export const ListAuditInput = z.object({
  lead_id: Uuid.optional().meta({ description: 'Only entries that concern this lead.' }),
  actor: Uuid.optional().meta({ description: 'Only entries by this user (`sub`).' }),
  from: Instant.optional().meta({ description: 'Only entries at or after this time (ISO 8601).' }),
  to: Instant.optional().meta({ description: 'Only entries before this time (ISO 8601).' }),
  page: PageNumber,
  limit: PageLimit,
});
export type ListAuditInput = z.input<typeof ListAuditInput>;

export const AuditEntry = z
  .object({
    id: Uuid,
    actor: Uuid.nullable().meta({ description: 'The user (`sub`); null for the public website.' }),
    actor_role: z.string().nullable().meta({ description: 'The role the user acted in; null for the public website.' }),
    action: z.string().meta({ description: 'The procedure, e.g. `leads.get` or `leads.updateStatus`.', example: 'leads.get' }),
    lead_ids: z.array(Uuid).meta({ description: 'The leads read or changed; for a list, those on the page returned.' }),
    request_id: z.string(),
    client_ip: z.string(),
    user_agent: z.string().nullable(),
    created_at: Timestamp,
    reason: z.string().nullable().meta({ description: "Why the change was made, when the caller said (an erasure's `reason`)." }),
  })
  .meta({ id: 'AuditEntry', description: 'One read or change of lead data.' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditPage = z
  .object({
    items: z.array(AuditEntry),
    total: z.number().int().meta({ description: 'Number of entries matching the filters, over all pages.' }),
    page: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: 'AuditPage' });
export type AuditPage = z.infer<typeof AuditPage>;
