import type { AnyPolicy } from '@lead/contracts';
import { TRPCError } from '@trpc/server';
import { rateLimitHeaders } from '../http/rate-limit.js';
import type { User } from '../auth.js';
import type { Context } from './context.js';

/**
 * The per-user budget of a contract whose policy names it, spent after authentication so that
 * it is keyed by the verified `sub`. (The public create budget is spent earlier, per client
 * address and before the body is read: `http/create-limit.ts`.)
 */
export async function spendUserBudget(ctx: Context, user: User, policy: AnyPolicy): Promise<void> {
  if (policy.rateLimit !== 'user' || !ctx.userRateLimit) return;
  const verdict = await ctx.userRateLimit.consume(user.id);
  for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) ctx.setHeader(name, value);
  if (!verdict.allowed) {
    throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many requests: try again in ${verdict.resetSeconds} seconds` });
  }
}
