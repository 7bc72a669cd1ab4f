import type { CreatedLead, CreateLeadInput, ValidationIssue } from '@lead/contracts';
import { collectAttribution, type AttributionOptions } from './attribution.js';

export { collectAttribution, type AttributionInput, type AttributionOptions, type AttributionPersist } from './attribution.js';

// Types only: nothing from the contracts (zod), tRPC or superjson reaches this bundle.
export type { CreatedLead, CreateLeadInput, ValidationIssue };

export interface SubmitLeadOptions extends AttributionOptions {
  /** `false`: send no attribution with this submission (default: collected, see `collectAttribution`). */
  attribution?: boolean;
  /** The service's base URL, e.g. `https://leads.example.com`. */
  baseUrl: string;
  /** Identifies this submission; the service stores it once however often it arrives. Default: a new random key. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** How often a network failure is retried, with the same idempotency key (default 2). */
  retries?: number;
}

/** Base of every error `submitLead` throws. */
export class LeadError extends Error {
  constructor(
    message: string,
    /** HTTP status, when the service answered. */
    readonly status?: number,
    /** The service's stable error code, e.g. `BAD_REQUEST`. */
    readonly code?: string,
    /** Quote this when reporting a problem; it is in the service's logs. */
    readonly requestId?: string,
  ) {
    super(message);
  }
  // Spelled out: minifiers rename classes, and `name` is what logs and error trackers show.
  override name = 'LeadError';
}

/** The input was refused; `issues` names each field at fault (`path`, `message`). */
export class LeadValidationError extends LeadError {
  override name = 'LeadValidationError';
  issues: ValidationIssue[] = [];
}

/** Too many submissions; try again after `retryAfterSeconds` (null when the service did not say). */
export class LeadRateLimitedError extends LeadError {
  override name = 'LeadRateLimitedError';
  retryAfterSeconds: number | null = null;
}

/** The service could not be reached (offline, DNS, CORS refusal, aborted), even after retries. */
export class LeadNetworkError extends LeadError {
  override name = 'LeadNetworkError';
}

/** The service failed or answered unexpectedly. */
export class LeadServerError extends LeadError {
  override name = 'LeadServerError';
}

interface ErrorBody {
  code?: string;
  message?: string;
  request_id?: string;
  issues?: ValidationIssue[];
}

// randomUUID exists only in secure contexts; a site still on plain http gets 128 random bits in hex.
const newKey = (): string =>
  crypto.randomUUID?.() ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one website enquiry to `POST /api/v1/leads`. */
export async function submitLead(input: CreateLeadInput, options: SubmitLeadOptions): Promise<CreatedLead> {
  const doFetch = options.fetch ?? fetch;
  const key = options.idempotencyKey ?? newKey();
  // An attribution the caller gives is sent as it is.
  const payload = JSON.stringify(
    options.attribution === false || input.attribution ? input : { ...input, attribution: collectAttribution(options) },
  );
  let response: Response | undefined;
  for (let attempt = 0; !response; attempt++) {
    try {
      response = await doFetch(`${options.baseUrl.replace(/\/+$/, '')}/api/v1/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: payload,
        signal: options.signal,
      });
    } catch (cause) {
      if (options.signal?.aborted || attempt >= (options.retries ?? 2)) {
        throw Object.assign(new LeadNetworkError('The lead service could not be reached'), { cause });
      }
      await wait(250 * 2 ** attempt);
    }
  }

  const body = (await response.json().catch(() => ({}))) as ErrorBody & CreatedLead;
  const { status } = response;
  if (response.ok) return { ...body, created_at: new Date(body.created_at) };

  const args = [
    body.message || `HTTP ${status}`,
    status,
    body.code,
    body.request_id ?? response.headers.get('x-request-id') ?? undefined,
  ] as const;
  if (status == 400 || status == 413) return Promise.reject(Object.assign(new LeadValidationError(...args), { issues: body.issues ?? [] }));
  if (status == 429) {
    const seconds = Number(response.headers.get('retry-after') ?? NaN);
    return Promise.reject(Object.assign(new LeadRateLimitedError(...args), { retryAfterSeconds: seconds >= 0 ? seconds : null }));
  }
  throw new LeadServerError(...args);
}
