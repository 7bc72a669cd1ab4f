import { defineContract } from '../contract.js';
import { EraseInput, ErasureResult, ExportInput, PersonalDataExport } from './schemas.js';
import { retentionContract } from './retention.js';

const tags = ['Privacy'];

export const privacyContracts = {
  export: defineContract({
    type: 'query',
    input: ExportInput,
    output: PersonalDataExport,
    roles: ['admin'],
    rateLimit: 'user',
    audit: { kind: 'read', leadIds: ({ output }) => output.leads.map((lead) => lead.id) },
    method: 'GET',
    path: '/api/v1/privacy/export',
    operationId: 'exportPersonalData',
    summary: 'Everything held about an e-mail address (right of access)',
    description:
      'One document with every lead that has this address (matched trimmed and case-insensitively) with all its columns, ' +
      'attribution, consents, activities and events (with payloads), the audit entries of who read or changed those leads, ' +
      'and whether leads with this address were erased. Read in one snapshot; recorded in the audit trail. ' +
      'The address is never logged nor traced.',
    tags,
  }),
  erase: defineContract({
    type: 'mutation',
    input: EraseInput,
    output: ErasureResult,
    roles: ['admin'],
    rateLimit: 'user',
    audit: { kind: 'change', leadIds: ({ output }) => output.leads.map((lead) => lead.lead_id) },
    method: 'POST',
    path: '/api/v1/privacy/erasures',
    operationId: 'erasePersonalData',
    summary: 'Erase the personal data of an address or a lead (right to be forgotten)',
    description:
      'Anonymises instead of deleting, so that list totals and reports stay exactly as they were: name, e-mail, phone, ' +
      'company and message are replaced or cleared, activity text written by people is cleared, attribution and consent ' +
      'URLs are removed, every personal field of the lead’s event payloads (pending, delivered and dead) is cleared and ' +
      'the idempotency keys of its submission are removed. Status, source, priority, assignee, timestamps and the ' +
      'timeline’s entries remain. One transaction per lead, holding the lead’s row lock. Each erased lead gets a ' +
      '`LeadErased` event for the notification service, an erasure record (a keyed hash of the address, never the address) ' +
      'and an audit row with the reason. `dry_run` answers the same counts and changes nothing. ' +
      'An address with no leads answers 200 with no entries.',
    tags,
    errors: { 404: 'No lead has this `lead_id`' },
    examples: {
      request: { email: 'john@example.com', reason: 'GDPR request #1234' },
      response: {
        dry_run: false,
        leads: [
          {
            lead_id: '550e8400-e29b-41d4-a716-446655440000',
            already_erased: false,
            erased_at: '2024-02-01T09:00:00Z',
            counts: { leads: 1, lead_attributions: 1, lead_consents: 1, lead_activities: 2, outbox_events: 1, idempotency_keys: 0 },
          },
        ],
        totals: { leads: 1, lead_attributions: 1, lead_consents: 1, lead_activities: 2, outbox_events: 1, idempotency_keys: 0 },
      },
    },
  }),
  retention: retentionContract,
};
