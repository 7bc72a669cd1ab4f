import { errorForStatus, type LeadServiceError } from './errors.js';
import { send, trimBase, type ClientOptions } from './internal/request.js';
import type { CreatedLead, CreateLeadInput, ErrorCode, ValidationIssue } from './types.js';
import { CREATE_LEAD_PATH } from '@lead/contracts/routes';
import { collectAttribution, type AttributionOptions } from './attribution.js';

export interface SubmitLeadOptions extends ClientOptions, AttributionOptions {
  /** `false`: send no attribution with this submission (default: collected, see `collectAttribution`). */
  attribution?: boolean;
  /**
   * Identifies this submission: the service stores it once however often it arrives, so
   * retries are safe. Default: a new random key per call.
   */
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
}

interface ErrorBody {
  code?: ErrorCode;
  message?: string;
  request_id?: string;
  issues?: ValidationIssue[];
}

// randomUUID exists only in secure contexts; a site still on plain http gets 128 random bits in hex.
export const newIdempotencyKey = (): string =>
  crypto.randomUUID?.() ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Sends one website enquiry to `POST /api/v1/leads`. Extra fields (consent, attribution) are
 * sent as given. Rejects with a `LeadServiceError` subclass: `BadRequestError` (with `issues`),
 * `RateLimitedError` (with `retryAfterSeconds`), `ConnectionError`, …
 */
export async function submitLead(input: CreateLeadInput, options: SubmitLeadOptions): Promise<CreatedLead> {
  const response = await send(
    `${trimBase(options.baseURL)}${CREATE_LEAD_PATH}`,
    {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json', 'idempotency-key': options.idempotencyKey ?? newIdempotencyKey() },
      // An attribution the caller gives is sent as it is.
      body: JSON.stringify(
        options.attribution === false || input.attribution ? input : { ...input, attribution: collectAttribution(options) },
      ),
      signal: options.signal ?? null,
    },
    // A create carries its idempotency key, so every attempt stores at most one lead.
    { timeout: options.timeout ?? 30_000, maxRetries: options.maxRetries ?? 2, fetch: options.fetch ?? fetch, retryable: true },
  );
  const body = (await response.json().catch(() => ({}))) as ErrorBody & CreatedLead;
  if (response.ok) return { ...body, created_at: new Date(body.created_at) };
  const error: LeadServiceError = errorForStatus(
    response.status,
    body.message || `HTTP ${response.status}`,
    { code: body.code, requestId: body.request_id ?? response.headers.get('x-request-id') ?? undefined, issues: body.issues },
    response.headers,
  );
  throw error;
}
