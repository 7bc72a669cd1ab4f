import { privacyContracts } from '@lead/contracts';
import { PrivacyRepository, writeAudit } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toLeadErasure, totalOf } from './serialize.js';

export const erase = implementProtected(privacyContracts.erase, async ({ ctx, input }) => {
  const privacy = new PrivacyRepository(ctx.db, ctx.privacy);
  const options = { actor: ctx.audit, reason: input.reason ?? null, dryRun: input.dry_run ?? false };
  // Each lead is erased (and audited) in a transaction of its own.
  const erased = input.lead_id ? [await privacy.eraseLead(input.lead_id, options)] : await privacy.eraseByEmail(input.email!, options);
  // An address without leads changed nothing; the request is still recorded, with its reason.
  if (erased.length === 0) await writeAudit(ctx.db, ctx.audit, [], options.reason);
  return { dry_run: options.dryRun, leads: erased.map(toLeadErasure), totals: totalOf(erased) };
});
