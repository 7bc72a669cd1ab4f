import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * One read or change of lead data: who (`actorSub`, `actorRole`; null for the public website),
 * what (`action`, the procedure's name, e.g. `leads.get`), which leads, when, and from where.
 * Append-only: the migration installs triggers that refuse UPDATE, DELETE and TRUNCATE.
 */
export const AuditLog = defineEntity({
  name: 'AuditLog',
  schema: 'lead',
  tableName: 'audit_log',
  properties: (p) => ({
    id: p.uuid().primary(),
    actorSub: p.uuid().nullable(),
    actorRole: p.string().length(64).nullable(),
    action: p.string().length(64),
    leadIds: p.array().columnType('uuid[]'),
    requestId: p.string().length(128),
    clientIp: p.string().length(64),
    userAgent: p.string().length(512).nullable(),
    createdAt: p.datetime(),
    /** Why a change was made (an erasure's reason); never personal data. */
    reason: p.string().length(500).nullable(),
  }),
  indexes: [
    { name: 'audit_log_created_at_id_idx', properties: ['createdAt', 'id'] },
    { name: 'audit_log_actor_sub_created_at_id_idx', properties: ['actorSub', 'createdAt', 'id'] },
    // `lead_ids @> {id}` (the lead_id filter) needs a GIN index over the array.
    { name: 'audit_log_lead_ids_idx', properties: ['leadIds'], type: 'gin' },
  ],
});
export type AuditLog = InferEntity<typeof AuditLog>;
