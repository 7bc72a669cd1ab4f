import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { OpenAPIObject } from 'trpc-to-openapi';
import { buildOpenApiDocument } from '../../src/openapi.js';

// ajv-formats is CommonJS with the function as `default`; Node's ESM interop nests it once more.
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

const DOC_ID = 'lead-openapi.json';

export interface ObservedResponse {
  method: string;
  /** Path and query as requested, e.g. `/api/v1/leads?page=2`. */
  url: string;
  status: number;
  headers: Headers;
  body: unknown;
}

type Operation = { operationId?: string; responses: Record<string, DocResponse> };
type DocResponse = { headers?: Record<string, { $ref?: string; required?: boolean }>; content?: Record<string, unknown> };

/**
 * Checks responses against the OpenAPI document: the status must be documented for the
 * operation, the body must match that status's schema, and the headers it marks required must
 * be there. Requests outside the document may only be refused with the `Error` shape.
 */
export class OpenApiResponseValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ pattern: RegExp; template: string }>;

  constructor(private readonly doc: OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc, DOC_ID);
    this.routes = Object.keys(doc.paths ?? {})
      // Static paths first, so `/api/v1/leads/x` never shadows a literal sibling.
      .sort((a, b) => a.split('{').length - b.split('{').length)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      }));
  }

  /** The problems with one response; empty when it is what the document says. */
  problems(res: ObservedResponse): string[] {
    const method = res.method.toLowerCase();
    const path = res.url.split('?')[0]!;
    // Not REST: the tRPC surface, the HTML docs, and CORS preflights / HEAD have no operation.
    if (path.startsWith('/trpc') || path === '/docs' || path.startsWith('/docs/') || method === 'options' || method === 'head') {
      return [];
    }
    const template = this.routes.find((r) => r.pattern.test(path))?.template;
    const operation = template ? (this.doc.paths?.[template] as Record<string, Operation> | undefined)?.[method] : undefined;
    if (!template || !operation) {
      if (res.status !== 404 && res.status !== 405)
        return [`${res.method} ${path} is in no operation of the document, yet answered ${res.status}`];
      return this.schemaProblems('#/components/schemas/ApiError', res.body, `${res.method} ${path} ${res.status}`);
    }
    const where = `${operation.operationId ?? `${method} ${template}`} ${res.status}`;
    const response = operation.responses[String(res.status)];
    if (!response) {
      return [`${where}: status ${res.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
    }
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const required = header.$ref ? this.header(header.$ref).required : header.required;
      if (required && !res.headers.has(name)) problems.push(`${where}: header ${name} is documented as required but missing`);
    }
    if (response.content?.['application/json']) {
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('application/json')) problems.push(`${where}: content-type is "${type}", documented application/json`);
      const pointer = ['paths', template, method, 'responses', String(res.status), 'content', 'application/json', 'schema']
        .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
        .join('/');
      problems.push(...this.schemaProblems(`#/${pointer}`, res.body, where));
    }
    return problems;
  }

  private header(ref: string): { required?: boolean } {
    const name = ref.split('/').pop()!;
    return (this.doc.components?.headers?.[name] as { required?: boolean } | undefined) ?? {};
  }

  private schemaProblems(pointer: string, body: unknown, where: string): string[] {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOC_ID}${pointer}` });
      this.compiled.set(pointer, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }
}

let shared: OpenApiResponseValidator | undefined;

/** Throws, naming every problem, when a response is not what the document says. */
export function assertDocumentedResponse(res: ObservedResponse): void {
  shared ??= new OpenApiResponseValidator(buildOpenApiDocument());
  const problems = shared.problems(res);
  if (problems.length > 0) {
    throw new Error(
      `The response differs from the OpenAPI document:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(res.body)?.slice(0, 2000)}`,
    );
  }
}
