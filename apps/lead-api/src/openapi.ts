import { ApiError, contracts, type Contract } from '@lead/contracts';
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { createSchema } from 'zod-openapi';
import { openApiRouter } from './router.js';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `issues` names each field at fault',
  401: 'Missing, malformed, expired or invalid bearer token',
  403: 'The token is valid but its role may not do this (for `sales`: assign a lead to someone else)',
  404: 'No such lead, or (for `sales`) a lead not assigned to the caller',
  409: 'The lead already has this status',
  413: 'Request body too large',
  429: 'Too many requests',
  500: 'Internal error: quote `request_id` when reporting it',
  503: 'A dependency is unavailable: the database, the audit trail or the auth service key set',
};

function allContracts(node: object = contracts): Contract[] {
  return Object.values(node).flatMap((v) => ('meta' in v && 'input' in v ? [v as Contract] : allContracts(v)));
}

/**
 * The OpenAPI 3.1 document of the REST surface. trpc-to-openapi documents every success as 200
 * and errors with its own schema; this states the real success status of each operation and
 * points every error at the one shared `Error` schema the service really answers with.
 */
export function buildOpenApiDocument(baseUrl: string): OpenAPIObject {
  const doc = generateOpenApiDocument(openApiRouter, {
    title: 'Lead Service',
    version: '1.0.0',
    description:
      'Captures enquiries from the public website and lets the sales team and CMS work them through the pipeline.',
    baseUrl,
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
  });
  // ApiError carries `id: 'Error'`, so this yields a $ref and the named schemas it needs.
  const { schema: errorRef, components } = createSchema(ApiError);
  const ownSchemas = Object.entries(doc.components?.schemas ?? {}).filter(([name]) => !name.startsWith('error.'));
  doc.components = { ...doc.components, schemas: { ...Object.fromEntries(ownSchemas), ...components } };

  for (const contract of allContracts()) {
    const { path, method } = contract.meta.openapi;
    const operation = doc.paths?.[path]?.[method.toLowerCase() as 'get'];
    if (!operation?.responses) continue;
    const { ['200']: success, ...rest } = operation.responses;
    const responses: Record<string, unknown> = { [String(contract.meta.successStatus)]: success };
    for (const status of Object.keys(rest)) {
      responses[status] = {
        description: ERROR_DESCRIPTIONS[Number(status)] ?? 'Error',
        content: { 'application/json': { schema: errorRef } },
      };
    }
    operation.responses = responses;
  }
  return doc;
}
