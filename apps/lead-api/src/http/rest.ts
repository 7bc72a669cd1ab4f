import { procedures } from '@lead/contracts';
import { callTRPCProcedure, getTRPCErrorShape, TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  acceptsRequestBody,
  coerceSchema,
  createProcedureCache,
  getBody,
  getErrorFromUnknown,
  getInputOutputParsers,
  getQuery,
  instanceofZodTypeLikeVoid,
  instanceofZodTypeObject,
  instanceofZodTypeOptional,
  normalizePath,
  TRPC_ERROR_CODE_HTTP_STATUS,
  unwrapZodType,
  type OpenApiMethod,
  type OpenApiRouter,
} from 'trpc-to-openapi';
import { ZodArray, type ZodType } from 'zod';
import type { Context } from '../trpc.js';
import { outputJson } from './json.js';

export interface RestOptions {
  router: OpenApiRouter;
  createContext(opts: { req: FastifyRequest; res: FastifyReply }): Context;
  onError(opts: { error: TRPCError; path?: string; req: FastifyRequest; ctx?: Context }): void;
}

interface Input {
  /** False when the procedure takes no input (`z.void()` and the like): it is then called without one. */
  takesInput: boolean;
  /** Query parameters the input takes as arrays: a single value is wrapped. */
  arrays: string[];
}

/** What the input of a procedure is made of, read once (trpc-to-openapi reads it on every call). */
function inputOf(procedure: Parameters<typeof getInputOutputParsers>[0]): Input {
  const unwrapped = unwrapZodType(getInputOutputParsers(procedure).inputParser, true);
  if (instanceofZodTypeLikeVoid(unwrapped)) return { takesInput: false, arrays: [] };
  if (!instanceofZodTypeObject(unwrapped)) return { takesInput: true, arrays: [] };
  // trpc-to-openapi coerces query and path strings to the numbers, booleans and dates the
  // schema wants by marking the schema itself, so the tRPC surface, which shares the schemas,
  // coerces too (it used to from the first REST call on): done once here instead of per call.
  coerceSchema(unwrapped);
  const arrays = Object.entries(unwrapped.shape as Record<string, ZodType>)
    .filter(([, shape]) => shape instanceof ZodArray || (instanceofZodTypeOptional(shape) && shape.unwrap() instanceof ZodArray))
    .map(([key]) => key);
  return { takesInput: true, arrays };
}

/**
 * The REST surface: trpc-to-openapi's node-http handler, step for step (its route table, input
 * assembly and coercion, error statuses and body), on Fastify's own request and reply. Its
 * Fastify plugin builds a Fetch `Request` (headers copied, the parsed body serialised again, an
 * AbortController) on every call only to hand the context an abort signal this service never
 * reads, and binds a dozen Node methods onto the request and reply: together ~10 % of a read's
 * server CPU in the benchmark.
 */
export function registerRest(app: FastifyInstance, opts: RestOptions): void {
  const { router } = opts;
  const lookup = createProcedureCache(router);
  const inputs = new Map(procedures.map((p) => [p.path, inputOf(router._def.procedures[p.path] as never)]));
  const successStatus = new Map(procedures.map((p) => [p.path, p.contract.meta.successStatus]));

  const send = (reply: FastifyReply, status: number, json?: string) =>
    reply.code(status).header('content-type', 'application/json').send(json);

  app.route({
    method: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    url: '/*',
    handler: async (req, reply) => {
      const method = req.method as OpenApiMethod | 'HEAD';
      const url = new URL(`http://127.0.0.1${req.url}`);
      const found = lookup(method, normalizePath(url.pathname));
      const procedure = found?.procedure;
      let input: Record<string, unknown> | undefined;
      let ctx: Context | undefined;
      try {
        if (!procedure) {
          if (method === 'HEAD') return send(reply, 204);
          throw new TRPCError({ message: 'Not found', code: 'NOT_FOUND' });
        }
        const contentType = req.headers['content-type'];
        const useBody = acceptsRequestBody(method);
        if (useBody && !contentType?.startsWith('application/json')) {
          throw new TRPCError({
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: contentType ? `Unsupported content-type "${contentType}` : 'Missing content-type header',
          });
        }
        const { takesInput, arrays } = inputs.get(procedure.path)!;
        if (takesInput) {
          const given = useBody ? ((await getBody(req as never)) as Record<string, unknown>) : getQuery(req as never, url);
          input = { ...given, ...found.pathInput };
          if (!useBody) for (const key of arrays) if (input[key] !== undefined && !Array.isArray(input[key])) input[key] = [input[key]];
        }
        ctx = opts.createContext({ req, res: reply });
        const rawInput = input;
        const data: unknown = await callTRPCProcedure({
          router,
          path: procedure.path,
          type: procedure.type,
          ctx,
          getRawInput: () => Promise.resolve(rawInput),
          signal: undefined,
          batchIndex: 0,
        });
        return send(reply, successStatus.get(procedure.path) ?? 200, outputJson(data));
      } catch (cause) {
        const error = getErrorFromUnknown(cause);
        opts.onError({ error, path: procedure?.path, req, ...(ctx ? { ctx } : {}) });
        const type = procedure?.type ?? 'unknown';
        // The service's own error formatter (`procedures/errors.ts`) makes this shape.
        const shape = getTRPCErrorShape({ config: router._def._config, error, type, path: procedure?.path, input, ctx }) as {
          message?: string;
        };
        const invalidInput = error.code === 'BAD_REQUEST' && error.cause instanceof Error && error.cause.name === 'ZodError';
        return send(
          reply,
          TRPC_ERROR_CODE_HTTP_STATUS[error.code] ?? 500,
          JSON.stringify({
            ...shape,
            message: invalidInput ? 'Input validation failed' : (shape.message ?? error.message),
            code: error.code,
            issues: invalidInput ? (error.cause as unknown as { issues: unknown }).issues : undefined,
          }),
        );
      }
    },
  });
}
