import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request facts that must be reachable where no tRPC context exists (e.g. error formatting). */
export interface RequestScope {
  requestId: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

export const currentRequestId = (): string => requestScope.getStore()?.requestId ?? 'unknown';
