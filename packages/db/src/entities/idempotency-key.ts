import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Lead } from './lead.js';

/**
 * An `Idempotency-Key` a client sent with a create, and the lead it made. The row is written in
 * the transaction that creates the lead, so a committed key always points at its lead; deleting
 * the lead forgets the key with it.
 */
export const IdempotencyKey = defineEntity({
  name: 'IdempotencyKey',
  schema: 'lead',
  tableName: 'idempotency_keys',
  properties: (p) => ({
    key: p.string().length(255).primary(),
    // SHA-256 (hex) of the normalised input, to tell a retry from a different request.
    requestHash: p.string().length(64),
    // Null only inside the creating transaction, between claiming the key and inserting the lead.
    lead: p.manyToOne(Lead).fieldName('lead_id').deleteRule('cascade').nullable(),
    createdAt: p.datetime(),
  }),
  indexes: [
    { name: 'idempotency_keys_created_at_idx', properties: ['createdAt'] },
    // Erasure removes a lead's keys by lead.
    { name: 'idempotency_keys_lead_id_idx', properties: ['lead'] },
  ],
});
export type IdempotencyKey = InferEntity<typeof IdempotencyKey>;
