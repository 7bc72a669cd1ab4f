import type { ErasureCounts, ErasureRecord as ErasureRecordOut, LeadErasure as LeadErasureOut } from '@lead/contracts';
import { ERASURE_TABLES, type ErasureRecord, type LeadErasure } from '@lead/db';

export const toErasureRecord = (record: ErasureRecord): ErasureRecordOut => ({
  lead_id: record.leadId,
  erased_at: record.erasedAt,
  actor: record.actorSub,
  actor_role: record.actorRole,
  reason: record.reason,
});

export const toLeadErasure = (erasure: LeadErasure): LeadErasureOut => ({
  lead_id: erasure.leadId,
  already_erased: erasure.alreadyErased,
  erased_at: erasure.erasedAt,
  counts: erasure.counts,
});

/** The counts of all leads, table by table. */
export const totalOf = (erasures: LeadErasure[]): ErasureCounts =>
  Object.fromEntries(ERASURE_TABLES.map((table) => [table, erasures.reduce((n, e) => n + e.counts[table], 0)])) as ErasureCounts;
