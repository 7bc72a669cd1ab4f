import { Transform } from 'node:stream';
import { procedures } from '@lead/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Deeper JSON than any contract takes: refused before parsing builds it (and before Zod walks it). */
export const MAX_JSON_DEPTH = 32;

/** Whether `text` nests arrays/objects deeper than `max`, counted outside strings, in one pass. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** The REST operations with a body-carrying method whose input is all in their path, read once from the contracts. */
const WITHOUT_BODY = new Set(
  procedures
    .filter(({ contract }) => {
      if (contract.meta.openapi.method === 'GET') return false;
      const pathParams = new Set([...contract.meta.openapi.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      const shape = (contract.input as { shape?: Record<string, unknown> }).shape ?? {};
      return Object.keys(shape).every((key) => pathParams.has(key));
    })
    .map((entry) => entry.path),
);

/**
 * Whether the target is a REST operation with a body-carrying method whose input is all in its
 * path: for the others a missing body is still a 415, which the OpenAPI document says.
 */
function takesNoBody(target: FastifyRequest['target']): boolean {
  return target?.kind === 'procedure' && target.surface === 'rest' && WITHOUT_BODY.has(target.calls[0]!.path);
}

const tooLarge = () => Object.assign(new Error('Request body too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });

/**
 * How request bodies are read: JSON with Fastify's own parser (prototype poisoning refused) but
 * no deeper than `MAX_JSON_DEPTH`; each target's own body limit (its contract's `maxBodyBytes`,
 * capped by the service-wide one Fastify enforces) while the body streams in; and an operation
 * whose input is all in its path accepted without a body, as its OpenAPI document says.
 */
export function registerBodyHandling(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (nestsDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(
        Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400, code: 'LEAD_JSON_TOO_DEEP' }),
        undefined,
      );
      return;
    }
    void parseJson(req, body as string, done);
  });

  app.addHook('preParsing', async (req, _reply, payload) => {
    const limit = req.policy?.maxBodyBytes;
    if (!limit) return payload;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) throw tooLarge();
    let seen = 0;
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          seen += chunk.length;
          callback(seen > limit ? tooLarge() : null, chunk);
        },
      }),
    );
  });

  app.addHook('preHandler', (req, _reply, done) => {
    if (takesNoBody(req.target) && req.headers['content-type'] === undefined) req.headers['content-type'] = 'application/json';
    done();
  });
}
