import { privacyContracts } from '@lead/contracts';
import { PrivacyRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toAuditEntry } from '../audit/serialize.js';
import { toLeadEvent } from '../events/serialize.js';
import { toDetail } from '../leads/serialize.js';
import { toErasureRecord } from './serialize.js';

export const exportData = implementProtected(privacyContracts.export, async ({ ctx, input }) => {
  const found = await new PrivacyRepository(ctx.db, ctx.privacy).exportByEmail(input.email);
  return {
    leads: found.leads.map((held) => ({
      ...toDetail(held),
      utm_source: held.lead.utmSource,
      utm_medium: held.lead.utmMedium,
      utm_campaign: held.lead.utmCampaign,
      events: held.events.map(toLeadEvent),
    })),
    audit: found.audit.map(toAuditEntry),
    audit_total: found.auditTotal,
    erased: found.erasures.length > 0,
    erasures: found.erasures.map(toErasureRecord),
  };
});
