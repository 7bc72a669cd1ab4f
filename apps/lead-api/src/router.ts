import type { AppRouter } from '@lead/contracts';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { OpenApiRouter } from 'trpc-to-openapi';
import { auditRouter } from './modules/audit/router.js';
import { eventsRouter } from './modules/events/router.js';
import { health } from './modules/health/health.js';
import { probesRouter } from './modules/health/probes.js';
import { leadsRouter } from './modules/leads/router.js';
import { privacyRouter } from './modules/privacy/router.js';
import { reportsRouter } from './modules/reports/router.js';
import { router } from './trpc.js';

export const appRouter = router({
  health,
  probes: probesRouter,
  leads: leadsRouter,
  events: eventsRouter,
  audit: auditRouter,
  reports: reportsRouter,
  privacy: privacyRouter,
});

// Clients are typed by the contracts' AppRouter; this fails to compile if a procedure is missing,
// extra, or attached to another contract than the one its name says.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inputsMatch: Same<inferRouterInputs<typeof appRouter>, inferRouterInputs<AppRouter>> = true;
const outputsMatch: Same<inferRouterOutputs<typeof appRouter>, inferRouterOutputs<AppRouter>> = true;
void inputsMatch;
void outputsMatch;

/**
 * trpc-to-openapi types its router with an open `Record<string, unknown>` meta, which our
 * stricter `LeadMeta` cannot be assigned to (the meta type appears in both directions).
 */
export const openApiRouter = appRouter as unknown as OpenApiRouter;
