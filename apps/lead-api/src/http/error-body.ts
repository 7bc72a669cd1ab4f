import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyRequest } from 'fastify';

export interface HttpError {
  status: number;
  code: keyof typeof TRPC_ERROR_CODES_BY_KEY;
  message: string;
  /** The tRPC procedure the error belongs to, for one entry of a batched answer. */
  path?: string;
}

/**
 * An error answered before (or outside) tRPC, shaped as the surface called expects: the tRPC
 * envelope (superjson-wrapped) under `/trpc`, the REST error body elsewhere.
 */
export function errorBody(req: FastifyRequest, { status, code, message, path }: HttpError): object {
  if (req.url.startsWith('/trpc')) {
    const data = { code, httpStatus: status, ...(path ? { path } : {}), request_id: req.id };
    return { error: { json: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data } } };
  }
  return { code, message, request_id: req.id };
}
