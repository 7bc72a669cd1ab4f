import type { ErrorCode } from '@lead/contracts';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyRequest } from 'fastify';

export interface HttpError {
  status: number;
  code: ErrorCode;
  message: string;
  /** The tRPC procedure the error belongs to, for one entry of a batched answer. */
  path?: string;
}

/**
 * An error answered before (or outside) tRPC, shaped as the surface the request is for expects:
 * the tRPC envelope (superjson-wrapped) for the tRPC surface, the REST error body otherwise.
 */
export function errorBody(req: FastifyRequest, { status, code, message, path }: HttpError): object {
  if (req.surface === 'trpc' && code in TRPC_ERROR_CODES_BY_KEY) {
    const data = { code, httpStatus: status, ...(path ? { path } : {}), request_id: req.id };
    return { error: { json: { message, code: TRPC_ERROR_CODES_BY_KEY[code as keyof typeof TRPC_ERROR_CODES_BY_KEY], data } } };
  }
  return { code, message, request_id: req.id };
}
