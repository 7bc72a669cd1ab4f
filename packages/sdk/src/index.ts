import type { AppRouter } from '@lead/contracts';
import { TRPC_PREFIX } from '@lead/contracts/routes';
import { createTRPCClient, httpBatchLink, type TRPCClient, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import { toLeadApiError } from './cms-errors.js';

export { LeadApiError, isLeadApiError, toLeadApiError } from './cms-errors.js';
export type {
  Activity,
  ActivityType,
  AddActivityInput,
  AppRouter,
  AssignLeadInput,
  ClientActivityType,
  CreateLeadInput,
  CreatedLead,
  ErrorCode,
  LeadAssignment,
  LeadDetail,
  LeadPage,
  LeadPriority,
  LeadSource,
  LeadStatus,
  LeadStatusResult,
  LeadSummary,
  ListLeadsInput,
  UpdateLeadStatusInput,
  ValidationIssue,
} from '@lead/contracts';

type Awaitable<T> = T | Promise<T>;

export interface LeadClientOptions {
  /** The service's base URL, e.g. `https://leads.example.com`; calls go to `<url>/trpc`. */
  url: string;
  /** A bearer token for the admin procedures. */
  token?: string;
  /** Called before every request, for tokens that expire; wins over `token`. */
  getToken?: () => Awaitable<string | null | undefined>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Abort a request that has not been answered after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** The typed client: one method per procedure, `Date`s where the service has dates. */
export type LeadClient = TRPCClient<AppRouter>;

/** Turns every failure into a `LeadApiError`, so callers catch one type with status, code and request id. */
const leadErrors: TRPCLink<AppRouter> =
  () =>
  ({ next, op }) =>
    observable((observer) =>
      next(op).subscribe({
        next: (value) => observer.next(value),
        error: (error) => observer.error(toLeadApiError(error)),
        complete: () => observer.complete(),
      }),
    );

export function createLeadClient(options: LeadClientOptions): LeadClient {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const timedFetch: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return baseFetch(input, { ...init, signal });
  };
  return createTRPCClient<AppRouter>({
    links: [
      leadErrors,
      httpBatchLink({
        url: `${options.url.replace(/\/+$/, '')}${TRPC_PREFIX}`,
        transformer: superjson,
        fetch: timedFetch,
        async headers() {
          const token = options.getToken ? await options.getToken() : options.token;
          return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
        },
      }),
    ],
  });
}
