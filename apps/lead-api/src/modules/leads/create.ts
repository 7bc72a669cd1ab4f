import { createHash } from 'node:crypto';
import { leadContracts, type CreatedLead } from '@lead/contracts';
import { deriveSource, IdempotencyKeyRepository, LeadRepository, normalizeAttribution, type LeadRecord, type NewLead } from '@lead/db';
import { TRPCError } from '@trpc/server';
import { v7 as uuidv7 } from 'uuid';
import { invalidInput } from '../../procedures/errors.js';
import { implementPublic } from '../../trpc.js';

/** Empty optional fields are stored as absent. */
const orNull = (value: string | null | undefined) => (value ? value : null);

const MAX_IDEMPOTENCY_KEY = 255;

// The answer is always the first one: a lead is `new` when it is created.
const created = (lead: Pick<LeadRecord, 'id' | 'name' | 'email' | 'createdAt'>): CreatedLead => ({
  id: lead.id,
  name: lead.name,
  email: lead.email,
  status: 'new',
  created_at: lead.createdAt,
});

/** JSON with every object's keys sorted, at every depth: one text per value. */
const canonical = (value: unknown): string =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? `{${Object.keys(value)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
        .join(',')}}`
    : JSON.stringify(value ?? null);

/** Two requests are "the same" when they would store the same lead, attribution included. */
const requestHash = (lead: NewLead) => createHash('sha256').update(canonical(lead)).digest('hex');

export const create = implementPublic(leadContracts.create, async ({ ctx, input }) => {
  const key = ctx.idempotencyKey;
  if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters` });
  }
  if (ctx.leads.requireConsent && !input.consent?.policy_version) {
    throw invalidInput(['consent', 'policy_version'], 'is required: this service records the policy version each visitor accepted');
  }
  const attribution = normalizeAttribution(input.attribution);
  const lead: NewLead = {
    name: input.name,
    email: input.email,
    phone: orNull(input.phone),
    company: orNull(input.company),
    message: orNull(input.message),
    // An explicit source always wins; otherwise it follows from where the visitor came from.
    source: input.source ?? deriveSource(attribution),
    attribution,
    // Given on the page the form was sent from (or landed on), as cleaned for the attribution.
    consent: input.consent
      ? {
          policyVersion: input.consent.policy_version ?? null,
          marketing: input.consent.marketing ?? false,
          text: orNull(input.consent.text),
          page: attribution?.page ?? attribution?.landingPage ?? null,
        }
      : null,
  };
  if (input.website) {
    // A bot filled the hidden field: it sees a success, and nothing is stored or sent.
    ctx.honeypotCaught();
    return created({ ...lead, id: uuidv7(), createdAt: new Date() });
  }
  // A duplicate is stored and answered like any other lead: the submitter is never told.
  if (key === undefined) return created(await new LeadRepository(ctx.db).create(lead, ctx.audit, ctx.leads));
  const result = await new IdempotencyKeyRepository(ctx.db).createLeadOnce(
    { key, requestHash: requestHash(lead) },
    lead,
    ctx.audit,
    ctx.leads,
  );
  if (result.replayed) ctx.setHeader('idempotent-replayed', 'true');
  return created(result.lead);
});
