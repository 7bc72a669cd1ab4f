import { defineContract } from '../contract.js';
import { AuditPage, ListAuditInput } from './schemas.js';

export const auditContracts = {
  list: defineContract({
    type: 'query',
    input: ListAuditInput,
    output: AuditPage,
    roles: ['admin'],
    rateLimit: 'user',
    // The trail names leads and callers, never a lead's own fields.
    audit: 'none',
    method: 'GET',
    path: '/api/v1/audit',
    operationId: 'listAudit',
    summary: 'The audit trail: who read or changed which leads, when and from where',
    description: 'Filters combine with AND. Newest first. The trail is append-only.',
    tags: ['Audit'],
  }),
};
