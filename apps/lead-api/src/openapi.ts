import { ApiError, documents, ERROR_STATUS, procedures, type Contract, type ProcedureEntry } from '@lead/contracts';
import { generateOpenApiDocument, type OpenAPIObject, type OpenApiRouter } from 'trpc-to-openapi';
import { createSchema, type oas31 } from 'zod-openapi';
import { openApiRouter } from './router.js';

/** The committed copy, `apps/lead-api/openapi.json` (the same from `src/` and from `dist/`). */
export const COMMITTED_OPENAPI_FILE = new URL('../openapi.json', import.meta.url);

/**
 * Relative, so the committed document and the served one are the same bytes, and a reader
 * (Swagger UI, a generated client) calls the host it got the document from.
 */
const SERVER = { url: '/', description: 'This service: the host serving this document' };

/** Every tag a contract uses must be described here: building the document fails otherwise. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  Leads: 'Website enquiries and the sales pipeline they go through.',
  Audit: 'Who read or changed which leads, when and from where (append-only).',
  Events: 'Lead events on their way to the notification service (the outbox).',
  Reports: 'Pipeline and source figures: counts, conversions and times, no personal data.',
  Privacy: 'Personal data over its life: everything held about an address, erasure, and the retention rules (admin only).',
  Operations: 'Health, probes and the description of this API.',
};

/** The license the project publishes under (the SDK generated from these contracts is MIT too). */
const LICENSE: oas31.LicenseObject = { name: 'MIT', identifier: 'MIT' };
const CONTACT: oas31.ContactObject = { name: 'Lead Service maintainers' };

/** The generic meaning of each error status; a contract may say more for its own operation. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `issues` names each field at fault',
  401: 'Missing, malformed, expired or invalid bearer token',

  404: 'Not found',
  408: "The request did not arrive whole within the service's request timeout (`REQUEST_TIMEOUT_MS`)",
  409: 'Conflicts with the current state',
  413: 'Request body larger than the limit',
  415: 'The body is not `application/json`',
  422: 'Well-formed but refused',
  429: 'Too many requests: try again after `Retry-After` seconds',
  431: 'The request headers are larger than the HTTP parser accepts',
  500: 'Internal error: quote `request_id` when reporting it',
  503: 'A dependency is unavailable (the database, the audit trail or the auth service key set): try again shortly',
};

const ERROR_EXAMPLES: Record<number, Partial<ApiError>> = {
  400: {
    message: 'Input validation failed',
    issues: [{ code: 'invalid_format', path: ['email'], message: 'Invalid email address' }],
  },
  401: { message: 'Missing bearer token' },
  403: { message: 'Your role may not do this' },
  404: { message: 'Lead not found' },
  408: { message: 'The request did not arrive in time' },
  409: { message: 'The lead is already contacted' },
  413: { message: 'Request body too large' },
  415: { message: 'Content-Type must be application/json' },
  429: { message: 'Too many requests, try again later' },
  431: { message: 'The request headers are too large' },
  500: { message: 'Internal server error' },
  503: { message: 'The database is unavailable, try again shortly' },
};

const EXAMPLE_REQUEST_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** The first stable code for a status, e.g. 400 → BAD_REQUEST. */
const codeFor = (status: number) => Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0] ?? 'INTERNAL_SERVER_ERROR';

const ref = (kind: 'schemas' | 'headers', name: string): oas31.ReferenceObject => ({ $ref: `#/components/${kind}/${name}` });

const HEADERS: Record<string, oas31.HeaderObject> = {
  'X-Request-Id': {
    description:
      "Identifies this request: the caller's own `X-Request-Id` when it is 1-128 of `A-Za-z0-9._-`, otherwise a new UUID. Error bodies carry it as `request_id`.",
    required: true,
    schema: { type: 'string', example: EXAMPLE_REQUEST_ID },
  },
  'Retry-After': {
    description: 'Seconds until a request may be accepted again.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 3600 },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed in the current window.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 10 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the current window resets.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 3600 },
  },
};
const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

/** On the success of an operation that takes an `Idempotency-Key`: the answer is a replay. */
const REPLAYED_HEADER: oas31.HeaderObject = {
  description: 'Present (`true`) when this is the stored answer to an earlier request with the same `Idempotency-Key`.',
  required: false,
  schema: { type: 'string', const: 'true' },
};

function headersFor(names: string[], optional: string[] = []): Record<string, oas31.ReferenceObject | oas31.HeaderObject> {
  return Object.fromEntries<oas31.ReferenceObject | oas31.HeaderObject>([
    ...names.map((name): [string, oas31.ReferenceObject] => [name, ref('headers', name)]),
    // The same header, but only sometimes there (e.g. the rate-limit state on a success).
    ...optional.map((name): [string, oas31.HeaderObject] => [name, { ...HEADERS[name], required: false }]),
  ]);
}

/** Only a role the contract lists passes; some contracts refuse more (their own 403 wording). */
function forbiddenDescription(roles: readonly string[], more: string | undefined): string {
  const allowed = roles.map((r) => `\`${r}\``).join(', ');
  const who = roles.length === 1 ? `The token's role is not ${allowed}` : `The token's role is not one of ${allowed}`;
  return more ? `${who}, or ${more}` : who;
}

function errorResponse(
  status: number,
  description: string | undefined,
  opts: { rateLimited: boolean; hasBody: boolean; roles?: readonly string[] },
): oas31.ResponseObject {
  const generic =
    status === 400 && opts.hasBody
      ? `${ERROR_DESCRIPTIONS[400]} (\`PARSE_ERROR\` when the body is not JSON)`
      : status === 403
        ? forbiddenDescription(opts.roles ?? [], description)
        : ERROR_DESCRIPTIONS[status];
  return {
    description: (status === 403 ? generic : description) ?? generic ?? 'Error',
    headers:
      status === 429
        ? headersFor(['X-Request-Id', 'Retry-After', ...RATE_LIMIT_HEADERS])
        : headersFor(['X-Request-Id'], opts.rateLimited ? RATE_LIMIT_HEADERS : []),
    content: {
      'application/json': {
        schema: ref('schemas', 'ApiError'),
        example: { code: codeFor(status), message: 'Error', ...ERROR_EXAMPLES[status], request_id: EXAMPLE_REQUEST_ID },
      },
    },
  };
}

/** Finishes one operation from its contract: real success status, examples, headers, errors. */
function completeOperation(operation: oas31.OperationObject, contract: Contract): void {
  const { meta } = contract;
  const errors = meta.openapi.errorResponses;
  const rateLimited = errors.includes(429);
  const success = operation.responses?.['200'] as oas31.ResponseObject;
  const successContent = success.content?.['application/json'];
  if (successContent && meta.examples?.response) successContent.example = meta.examples.response;
  // Readers show a parameter's own description, not its schema's.
  for (const parameter of (operation.parameters ?? []) as oas31.ParameterObject[]) {
    const described = (parameter.schema as oas31.SchemaObject | undefined)?.description;
    if (described && !parameter.description) parameter.description = described;
  }
  const requestContent = (operation.requestBody as oas31.RequestBodyObject | undefined)?.content?.['application/json'];
  if (requestContent && meta.examples?.request) requestContent.example = meta.examples.request;

  const responses: oas31.ResponsesObject = {
    [String(meta.successStatus)]: {
      description: meta.successStatus === 201 ? 'Created' : 'OK',
      headers: {
        ...headersFor(['X-Request-Id'], rateLimited ? RATE_LIMIT_HEADERS : []),
        ...(meta.openapi.requestHeaders?.shape['Idempotency-Key'] ? { 'Idempotent-Replayed': REPLAYED_HEADER } : {}),
      },
      ...(success.content ? { content: success.content } : {}),
    },
  };
  for (const status of errors) {
    responses[String(status)] = errorResponse(status, meta.errorDescriptions?.[status], {
      rateLimited,
      hasBody: meta.openapi.method !== 'GET',
      roles: meta.roles,
    });
  }
  operation.responses = responses;
  // Public: say so, rather than leave readers to guess whether a global requirement applies.
  if (!meta.openapi.protect) operation.security = [];
}

/**
 * A named schema may be read as a response too, so openapi-typescript (by default) makes a
 * property with a `default` required, which would make callers send what they may omit. The
 * server applies the default; a request body's schema says so in words instead.
 */
function withDefaultsInWords(schema: oas31.SchemaObject): oas31.SchemaObject {
  type Property = oas31.SchemaObject | oas31.ReferenceObject;
  const properties = Object.entries(schema.properties ?? {}).map(([key, property]): [string, Property] => {
    if (!('default' in property)) return [key, property];
    const { default: value, ...rest } = property as Omit<oas31.SchemaObject, 'default'> & { default: unknown };
    const note = `Defaults to \`${JSON.stringify(value).replace(/^"|"$/g, '')}\` when omitted.`;
    return [key, { ...rest, description: rest.description ? `${rest.description} ${note}` : note }];
  });
  return schema.properties ? { ...schema, properties: Object.fromEntries(properties) } : schema;
}

/** `createLead` → `CreateLeadBody`. */
const bodySchemaName = (operationId: string) => `${operationId[0]!.toUpperCase()}${operationId.slice(1)}Body`;

/**
 * Gives each operation's inline request body schema a name of its own in `components.schemas`,
 * so generated clients get a named type (`CreateLeadBody`) instead of an anonymous one.
 */
function nameRequestBodies(doc: OpenAPIObject, schemas: Record<string, oas31.SchemaObject | oas31.ReferenceObject>): void {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, oas31.OperationObject>)) {
      const content = (operation.requestBody as oas31.RequestBodyObject | undefined)?.content?.['application/json'];
      if (!content?.schema || '$ref' in content.schema || !operation.operationId) continue;
      const name = bodySchemaName(operation.operationId);
      if (schemas[name]) throw new Error(`${operation.operationId}: a schema named ${name} already exists`);
      schemas[name] = withDefaultsInWords(content.schema);
      content.schema = ref('schemas', name);
    }
  }
}

/** This document itself, which no contract describes because it is not a procedure. */
const documentOperation: oas31.OperationObject = {
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI document',
  description: 'The OpenAPI 3.1 description of this REST API, the same bytes as `apps/lead-api/openapi.json`. Public, and cacheable.',
  tags: ['Operations'],
  security: [],
  responses: {
    '200': {
      description: 'OK',
      headers: headersFor(['X-Request-Id']),
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['openapi', 'info', 'paths'],
            properties: {
              openapi: { type: 'string', const: '3.1.0' },
              info: { type: 'object', description: 'Title, version and description of this API.' },
              paths: { type: 'object', description: 'The operations, by path and method.' },
            },
          },
        },
      },
    },
    // Node's HTTP parser refuses these before any route, this one included.
    ...Object.fromEntries(
      [408, 431].map((status) => [String(status), errorResponse(status, undefined, { rateLimited: false, hasBody: false })]),
    ),
  },
};

/**
 * The OpenAPI 3.1 document of the REST surface, derived from the contracts: trpc-to-openapi
 * gives paths, parameters and schemas; each contract's meta then states its real success
 * status, its examples and every error it can answer, all through the one shared `ApiError` schema
 * the service really answers with. The same input gives the same bytes (it is committed).
 */
export function buildOpenApiDocument(
  source: { router: OpenApiRouter; procedures: readonly ProcedureEntry[]; tagDescriptions?: Record<string, string> } = {
    router: openApiRouter,
    procedures,
  },
): OpenAPIObject {
  const tagDescriptions = { ...TAG_DESCRIPTIONS, ...source.tagDescriptions };
  const doc = generateOpenApiDocument(source.router, {
    title: 'Lead Service',
    version: '1.0.0',
    description:
      'Captures enquiries from the public website and lets the sales team and CMS work them through the pipeline `new → contacted → qualified → proposal → closed_won | closed_lost`.\n\n' +
      'Errors share one shape, `ApiError`: a stable `code`, a `message` safe to show, the `request_id` (also the `X-Request-Id` header), and on invalid input the `issues` naming each field at fault.',
    baseUrl: SERVER.url,
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          "A JWT with `exp`, a UUID `sub` and a `role` claim (`admin`, `cms` or `sales`), signed either with RS256 or ES256 by a key of the auth service's key set (`AUTH_JWKS_URL`, chosen by `kid`) or with HS256 and the shared secret (`AUTH_JWT_SECRET`), whichever the service is configured with. `iss` and `aud` must match when the service is configured with them.",
      },
    },
  });
  doc.servers = [SERVER];
  doc.info = { ...doc.info, contact: CONTACT, license: LICENSE };

  const contractList = source.procedures.map((p) => p.contract);
  for (const contract of contractList) {
    const { path, method } = contract.meta.openapi;
    const operation = doc.paths?.[path]?.[method.toLowerCase() as 'get'];
    if (operation) completeOperation(operation, contract);
  }
  doc.paths = { ...doc.paths, [documents.openapi.path]: { get: documentOperation } };

  // ApiError carries `id: 'ApiError'`, so this yields a $ref and the named schemas it needs; the
  // error schemas trpc-to-openapi made for its own error shape are no longer referenced.
  const { components: errorSchemas } = createSchema(ApiError);
  const schemas = { ...doc.components?.schemas, ...errorSchemas };
  nameRequestBodies(doc, schemas);
  doc.components = {
    ...doc.components,
    schemas: Object.fromEntries(
      Object.entries(schemas)
        .filter(([name]) => !name.startsWith('error.'))
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
    headers: HEADERS,
  };

  // The API's own areas first, the operational endpoints last.
  const tagNames = [...new Set([...contractList.flatMap((c) => c.meta.openapi.tags).filter((n) => n !== 'Operations'), 'Operations'])];
  const undescribed = tagNames.filter((name) => !tagDescriptions[name]);
  if (undescribed.length > 0)
    throw new Error(`Describe these tags in TAG_DESCRIPTIONS (apps/lead-api/src/openapi.ts): ${undescribed.join(', ')}`);
  doc.tags = tagNames.map((name) => ({ name, description: tagDescriptions[name]! }));
  return doc;
}

/** The document as committed (`openapi.json`) and served: pretty, with a final newline. */
export const serializeOpenApiDocument = (doc: OpenAPIObject): string => `${JSON.stringify(doc, null, 2)}\n`;
