import type { AuditEntry } from '@lead/contracts';
import type { AuditRecord } from '@lead/db';

export const toAuditEntry = (entry: AuditRecord): AuditEntry => ({
  id: entry.id,
  actor: entry.actorSub ?? null,
  actor_role: entry.actorRole ?? null,
  action: entry.action,
  lead_ids: entry.leadIds,
  request_id: entry.requestId,
  client_ip: entry.clientIp,
  user_agent: entry.userAgent ?? null,
  created_at: entry.createdAt,
  reason: entry.reason ?? null,
});
