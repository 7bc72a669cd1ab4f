import type { ContractExamples } from '../contract.js';

// The spec's examples, completed with the fields the spec leaves out, so that each one is a
// body the service can really send or accept (a test validates them against the document).

const LEAD_ID = '550e8400-e29b-41d4-a716-446655440000';
const USER_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const CREATED_AT = '2024-01-15T10:30:00Z';
const UPDATED_AT = '2024-01-15T11:00:00Z';

const detail = (overrides: Record<string, unknown>) => ({
  id: LEAD_ID,
  name: 'John Doe',
  email: 'john@example.com',
  phone: '+919876543210',
  company: 'Acme Corp',
  message: 'Interested in your services',
  source: 'website',
  status: 'new',
  priority: 'medium',
  assigned_to: null,
  lost_reason: null,
  duplicate_of: null,
  merged_into: null,
  attribution: null,
  activities: [
    {
      id: '660e8400-e29b-41d4-a716-446655440000',
      activity_type: 'created',
      description: 'Lead created from website',
      details: null,
      performed_by: null,
      created_at: CREATED_AT,
    },
  ],
  consents: [],
  created_at: CREATED_AT,
  updated_at: CREATED_AT,
  closed_at: null,
  erased_at: null,
  ...overrides,
});

export const leadExamples = {
  create: {
    request: {
      name: 'John Doe',
      email: 'john@example.com',
      phone: '+919876543210',
      company: 'Acme Corp',
      message: 'Interested in your services',
      source: 'website',
      attribution: {
        utm_source: 'newsletter',
        utm_medium: 'email',
        utm_campaign: 'spring-sale',
        landing_page: 'https://www.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale',
        page: 'https://www.example.com/contact',
        first_touch: { referrer: 'https://www.google.com/', landing_page: 'https://www.example.com/', at: '2024-01-10T08:00:00Z' },
      },
    },
    response: { id: LEAD_ID, name: 'John Doe', email: 'john@example.com', status: 'new', created_at: CREATED_AT },
  },
  list: {
    response: {
      items: [
        {
          id: LEAD_ID,
          name: 'John Doe',
          email: 'john@example.com',
          company: 'Acme Corp',
          status: 'new',
          source: 'website',
          priority: 'medium',
          assigned_to: null,
          lost_reason: null,
          duplicate_of: null,
          merged_into: null,
          created_at: CREATED_AT,
          updated_at: CREATED_AT,
        },
      ],
      total: 100,
      page: 1,
      limit: 20,
      next_cursor: 'WyJjcmVhdGVkX2F0IiwiZGVzYyIsIjIwMjQtMDEtMTUgMTA6MzA6MDArMDAiLCI1NTBlODQwMC1lMjliLTQxZDQtYTcxNi00NDY2NTU0NDAwMDAiXQ',
    },
  },
  get: {
    response: {
      id: LEAD_ID,
      name: 'John Doe',
      email: 'john@example.com',
      phone: '+919876543210',
      company: 'Acme Corp',
      message: 'Interested in your services',
      source: 'website',
      status: 'new',
      priority: 'medium',
      assigned_to: null,
      lost_reason: null,
      duplicate_of: null,
      merged_into: null,
      attribution: {
        utm_source: 'newsletter',
        utm_medium: 'email',
        utm_campaign: 'spring-sale',
        utm_term: null,
        utm_content: null,
        referrer: null,
        landing_page: 'https://www.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale',
        page: 'https://www.example.com/contact',
        first_touch: {
          utm_source: null,
          utm_medium: null,
          utm_campaign: null,
          utm_term: null,
          utm_content: null,
          referrer: 'https://www.google.com/',
          landing_page: 'https://www.example.com/',
          page: null,
          at: '2024-01-10T08:00:00Z',
        },
      },
      activities: [
        {
          id: '660e8400-e29b-41d4-a716-446655440000',
          activity_type: 'created',
          description: 'Lead created from website',
          details: null,
          performed_by: null,
          created_at: CREATED_AT,
        },
      ],
      consents: [
        {
          policy_version: '2024-01',
          marketing: false,
          text: 'I agree to the privacy policy and to being contacted about my enquiry.',
          page: 'https://www.example.com/contact',
          given_at: CREATED_AT,
        },
      ],
      created_at: CREATED_AT,
      updated_at: CREATED_AT,
      closed_at: null,
      erased_at: null,
    },
  },
  updateStatus: {
    request: { status: 'contacted', notes: 'Called customer, interested in proposal' },
    response: { id: LEAD_ID, status: 'contacted', lost_reason: null, updated_at: UPDATED_AT, closed_at: null },
  },
  update: {
    request: { phone: '+919876543211', priority: 'high' },
    response: detail({
      phone: '+919876543211',
      priority: 'high',
      updated_at: UPDATED_AT,
      activities: [
        {
          id: '660e8400-e29b-41d4-a716-446655440000',
          activity_type: 'created',
          description: 'Lead created from website',
          details: null,
          performed_by: null,
          created_at: CREATED_AT,
        },
        {
          id: '880e8400-e29b-41d4-a716-446655440000',
          activity_type: 'updated',
          description: 'Updated phone, priority',
          details: { changed_fields: 'phone, priority' },
          performed_by: USER_ID,
          created_at: UPDATED_AT,
        },
      ],
    }),
  },
  merge: {
    request: { into: '550e8400-e29b-41d4-a716-446655440001' },
    response: detail({ id: '550e8400-e29b-41d4-a716-446655440001', updated_at: UPDATED_AT }),
  },
  assign: {
    request: { assigned_to: USER_ID },
    response: { id: LEAD_ID, assigned_to: USER_ID, updated_at: UPDATED_AT },
  },
  addActivity: {
    request: { activity_type: 'note_added', description: 'Customer requested pricing information' },
    response: {
      id: '770e8400-e29b-41d4-a716-446655440000',
      activity_type: 'note_added',
      description: 'Customer requested pricing information',
      details: null,
      performed_by: USER_ID,
      created_at: UPDATED_AT,
    },
  },
} satisfies Record<string, ContractExamples>;
