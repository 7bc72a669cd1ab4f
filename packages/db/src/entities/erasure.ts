import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * Proof that a lead was erased: who, when and why, and a keyed hash (HMAC-SHA256, hex) of its
 * normalised e-mail address instead of the address, so that an auditor holding an address can
 * ask whether it was erased while the table reveals none. No foreign key: the proof outlives
 * anything that happens to the lead afterwards.
 */
export const Erasure = defineEntity({
  name: 'Erasure',
  schema: 'lead',
  tableName: 'erasures',
  properties: (p) => ({
    id: p.uuid().primary(),
    leadId: p.uuid(),
    emailHash: p.string().length(64),
    actorSub: p.uuid().nullable(),
    actorRole: p.string().length(64).nullable(),
    reason: p.string().length(500).nullable(),
    erasedAt: p.datetime(),
  }),
  indexes: [
    { name: 'erasures_email_hash_idx', properties: ['emailHash'] },
    { name: 'erasures_lead_id_idx', properties: ['leadId'] },
  ],
});
export type Erasure = InferEntity<typeof Erasure>;
