import type { Policy } from './contract.js';

/** Where the native tRPC surface is served; every procedure is `${TRPC_PREFIX}/<path>`. */
export const TRPC_PREFIX = '/trpc';

/**
 * The REST path of the public create, which the website's submit-only bundle calls: stated here,
 * in a module without schemas, so that the bundle can import it and stay free of zod.
 */
export const CREATE_LEAD_PATH = '/api/v1/leads';
/** Its tRPC path, which clients give an idempotency key of their own (checked in `router.ts`). */
export const CREATE_LEAD_PROCEDURE = 'leads.create';

/**
 * Routes that are not procedures: documents for people and tools. Each states its own policy
 * the way a contract does, so the server decides nothing from a path it spells itself.
 */
export interface DocumentRoute {
  method: 'GET';
  path: `/${string}`;
  /** Also every `path/<file>` below it (the assets of a page). */
  withAssets?: boolean;
  policy: Pick<Policy, 'cache' | 'cors'> & {
    /** `docs`: the page may run its own scripts and styles; `api`: nothing may be loaded. */
    contentSecurity: 'api' | 'docs';
  };
}

export const documents = {
  /** The OpenAPI document: static, free of personal data. */
  openapi: { method: 'GET', path: '/api/v1/openapi.json', policy: { cache: 'public', cors: 'admin', contentSecurity: 'api' } },
  /** Swagger UI for it, and its assets. */
  docs: { method: 'GET', path: '/docs', withAssets: true, policy: { cache: 'public', cors: 'admin', contentSecurity: 'docs' } },
  /** Prometheus metrics of this process. */
  metrics: { method: 'GET', path: '/metrics', policy: { cache: 'no-store', cors: 'admin', contentSecurity: 'api' } },
} as const satisfies Record<string, DocumentRoute>;
