import { documents, procedures, TRPC_PREFIX, type DocumentRoute, type ErrorCode, type ProcedureEntry } from '@lead/contracts';

/**
 * What a request is for, decided once, before any handler runs, from the contracts alone: every
 * policy (rate limits, CORS, cache and security headers, body limit, error shape) is read from
 * this, never from the URL's text. Only a request target in canonical form resolves; anything
 * the routers would read differently (case variants, dot segments, encoded dots or slashes,
 * backslashes, doubled slashes, absolute form) is refused, so no router can reach a procedure
 * this did not name.
 */
export type Target =
  | { kind: 'procedure'; surface: 'rest' | 'trpc'; calls: readonly ProcedureEntry[]; batch: boolean }
  | { kind: 'document'; surface: 'rest'; document: DocumentRoute };

export interface Refusal {
  kind: 'refused';
  surface: 'rest' | 'trpc';
  status: number;
  code: ErrorCode;
  message: string;
}

const byProcedurePath = new Map(procedures.map((p) => [p.path, p]));

/** REST routes by method: the contract's path as a pattern of exact segments and `{param}` holes. */
const restRoutes = procedures.map((entry) => ({
  entry,
  method: entry.contract.meta.openapi.method,
  segments: entry.contract.meta.openapi.path.split('/').map((s) => (/^\{\w+\}$/.test(s) ? null : s)),
}));

const documentRoutes: readonly DocumentRoute[] = Object.values(documents);

/** Encoded characters that would change a path's structure once some router decodes them. */
const STRUCTURAL_ESCAPE = /%(2e|2f|5c|25|00)/i;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

const refuse = (surface: Refusal['surface'], status: number, code: ErrorCode, message: string): Refusal => ({
  kind: 'refused',
  surface,
  status,
  code,
  message,
});

/** Why a path is not in canonical form, or null when it is. */
function nonCanonical(path: string): string | null {
  if (path.includes('\\')) return 'backslashes';
  if (path.includes('//')) return 'empty segments';
  if (DOT_SEGMENT.test(path)) return 'dot segments';
  if (STRUCTURAL_ESCAPE.test(path)) return 'encoded dots, slashes or percent signs';
  try {
    decodeURIComponent(path);
  } catch {
    return 'bad percent-encoding';
  }
  return null;
}

/** Which method a call is made with: a preflight asks for the method that will follow; HEAD is GET. */
function effectiveMethod(method: string, preflightMethod: string | undefined): string {
  if (method === 'OPTIONS') return preflightMethod?.toUpperCase() ?? 'OPTIONS';
  return method === 'HEAD' ? 'GET' : method;
}

function resolveTrpc(method: string, segment: string, query: URLSearchParams, maxBatchSize: number): Target | Refusal {
  const batch = query.get('batch') === '1';
  // Procedure names are plain identifiers joined by dots: no escapes, so every decoding agrees.
  if (!/^[A-Za-z0-9.,]+$/.test(segment)) return refuse('trpc', 404, 'NOT_FOUND', 'No such procedure');
  const names = batch ? segment.split(',') : [segment];
  if (names.length > maxBatchSize) {
    return refuse('trpc', 400, 'BAD_REQUEST', `A batch holds at most ${maxBatchSize} calls`);
  }
  const calls: ProcedureEntry[] = [];
  for (const name of names) {
    const entry = byProcedurePath.get(name);
    if (!entry) return refuse('trpc', 404, 'NOT_FOUND', 'No such procedure');
    calls.push(entry);
  }
  if (new Set(calls.map((c) => c.contract.type)).size > 1) {
    return refuse('trpc', 400, 'BAD_REQUEST', 'A batch holds either queries or mutations, not both');
  }
  if (method !== 'OPTIONS' && calls.some((c) => (c.contract.type === 'query' ? 'GET' : 'POST') !== method)) {
    return refuse('trpc', 405, 'METHOD_NOT_SUPPORTED', 'Queries are called with GET, mutations with POST');
  }
  return { kind: 'procedure', surface: 'trpc', calls, batch };
}

function resolveRest(method: string, path: string): Target | Refusal {
  const segments = path.split('/');
  const matching = restRoutes.filter(
    (route) =>
      route.segments.length === segments.length && route.segments.every((s, i) => (s === null ? segments[i] !== '' : s === segments[i])),
  );
  const route = matching.find((r) => r.method === method);
  if (route) return { kind: 'procedure', surface: 'rest', calls: [route.entry], batch: false };
  if (method === 'GET') {
    const document = documentRoutes.find((d) => d.path === path || (d.withAssets && path.startsWith(`${d.path}/`)));
    if (document) return { kind: 'document', surface: 'rest', document };
  }
  return refuse('rest', 404, 'NOT_FOUND', 'Not found');
}

/**
 * The target of a request, or why it is refused. `url` is the request target exactly as
 * received; `preflightMethod` is `Access-Control-Request-Method`.
 */
export function resolveTarget(method: string, url: string, opts: { preflightMethod?: string; maxBatchSize: number }): Target | Refusal {
  const surface = url.startsWith(`${TRPC_PREFIX}/`) ? 'trpc' : 'rest';
  if (!url.startsWith('/')) return refuse('rest', 400, 'BAD_REQUEST', 'The request target must be a path');
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path.includes('#')) return refuse(surface, 400, 'BAD_REQUEST', 'The request target must not carry a fragment');
  const problem = nonCanonical(path);
  if (problem) return refuse(surface, 400, 'BAD_REQUEST', `The request path is not in canonical form: ${problem}`);
  const effective = effectiveMethod(method, opts.preflightMethod);
  if (surface === 'trpc') {
    const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
    return resolveTrpc(effective, path.slice(TRPC_PREFIX.length + 1), query, opts.maxBatchSize);
  }
  return resolveRest(effective, path);
}

/** The policies of a target, combined over the calls of a batch (the strictest wins). */
export function policyOf(target: Target) {
  if (target.kind === 'document') {
    const { cache, cors, contentSecurity } = target.document.policy;
    return { cache, cors, contentSecurity, methods: ['GET'], createCalls: 0, maxBodyBytes: null };
  }
  const policies = target.calls.map((c) => c.contract.meta.policy);
  const limits = policies.map((p) => p.maxBodyBytes).filter((n): n is number => n !== null);
  return {
    cache: policies.every((p) => p.cache === 'public') ? ('public' as const) : ('no-store' as const),
    // A batch is public only when every call in it is.
    cors: policies.every((p) => p.cors === 'public') ? ('public' as const) : ('admin' as const),
    contentSecurity: 'api' as const,
    methods: [
      ...new Set(
        target.calls.map(({ contract }) =>
          target.surface === 'rest' ? contract.meta.openapi.method : contract.type === 'query' ? 'GET' : 'POST',
        ),
      ),
    ],
    createCalls: policies.filter((p) => p.rateLimit === 'create').length,
    maxBodyBytes: limits.length ? Math.min(...limits) : null,
  };
}
export type TargetPolicy = ReturnType<typeof policyOf>;

/**
 * Two REST routes of one method that some path could match both would let the REST router and
 * this resolver pick different procedures (it takes the first it registered): refused at start.
 */
function assertUnambiguous(): void {
  for (const [i, a] of restRoutes.entries()) {
    for (const b of restRoutes.slice(i + 1)) {
      const overlap =
        a.method === b.method &&
        a.segments.length === b.segments.length &&
        a.segments.every((s, k) => s === null || b.segments[k] === null || s === b.segments[k]);
      if (overlap) throw new Error(`${a.entry.path} and ${b.entry.path} can match the same ${a.method} path`);
    }
  }
}
assertUnambiguous();

/** The longest tRPC path segment a batch of `maxBatchSize` calls can need (the router's parameter limit). */
export const longestTrpcSegment = (maxBatchSize: number) => maxBatchSize * (Math.max(...procedures.map((p) => p.path.length)) + 1);
