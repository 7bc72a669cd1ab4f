import type { AnyPolicy } from '@lead/contracts';
import { isAuditSettled, writeAudit, type AuditEntry } from '@lead/db';
import type { User } from '../auth.js';
import type { Context, PublicContext } from './context.js';

/** Who is calling which procedure, and from where: the audit row the call may write. */
export const startAudit = (ctx: Context, action: string, user: User | null): AuditEntry => ({
  actorSub: user?.id ?? null,
  actorRole: user?.role ?? null,
  action,
  requestId: ctx.requestId,
  clientIp: ctx.ip,
  userAgent: ctx.userAgent,
});

/**
 * After a successful call, the audit row its contract asks for. A read's row is written here,
 * before the answer leaves (a failure answers 503: nothing is served unaudited). A change writes
 * its row in its own transaction; if a handler forgot to, the row is still written here, and the
 * lapse is logged as an error so that it is fixed.
 */
export async function recordCall(ctx: PublicContext, policy: AnyPolicy['audit'], input: unknown, output: unknown): Promise<void> {
  if (policy === 'none' || isAuditSettled(ctx.audit)) return;
  if (policy.kind === 'change') ctx.log.error({ action: ctx.audit.action }, 'a change was not audited in its transaction');
  await writeAudit(ctx.db, ctx.audit, [...policy.leadIds({ input, output })]);
}
