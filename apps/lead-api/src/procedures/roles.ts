import type { LeadMeta } from '@lead/contracts';
import type { LeadScope } from '@lead/db';
import { TRPCError } from '@trpc/server';
import type { User } from '../auth.js';
import type { AuthedContext, Context } from './context.js';
import { startAudit } from './audit.js';

/** A `sales` user works only the leads assigned to them; the repositories enforce it. */
const scopeOf = (user: User): LeadScope => (user.role === 'sales' ? { assignedTo: user.id } : {});

/**
 * Verifies the bearer token, then lets the call through only for a role its contract lists, so
 * the server enforces exactly what the OpenAPI document says. The audit entry now names the user.
 */
export async function authorize(ctx: Context, meta: LeadMeta, path: string): Promise<Pick<AuthedContext, 'user' | 'scope' | 'audit'>> {
  const user = await ctx.auth.authenticate(ctx.authorization);
  if (!meta.roles.some((role) => role === user.role)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Your role may not do this' });
  }
  return { user, scope: scopeOf(user), audit: startAudit(ctx, path, user) };
}
