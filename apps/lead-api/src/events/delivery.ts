import { createHmac } from 'node:crypto';
import type { ClaimedEvent } from '@lead/db';
import { traceHeaders } from '../ops/tracing.js';

export interface DeliveryOptions {
  url: string;
  /** Signs each request when set: see "Receiving events" in the README for the receiver's side. */
  signingSecret?: string;
  timeoutMs: number;
}

/** Ends a delivery early, e.g. at the shutdown deadline: it is recorded as failed and released at once. */
export class DeliveryAborted extends Error {
  override readonly name = 'DeliveryAborted';
}

/** What one POST to the notification service came to. */
export type DeliveryResult =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retry'; error: string; retryAfterMs?: number }
  | { outcome: 'refused'; error: string };

/** `v1=` + hex HMAC-SHA256 of `${timestamp}.${body}`: the timestamp is signed so a captured request cannot be replayed later. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A network failure in a few words, never with the request or the payload in it. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  if (error instanceof DeliveryAborted) return 'shutdown';
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : error.name;
}

export async function deliver(event: ClaimedEvent, options: DeliveryOptions, abort?: AbortSignal): Promise<DeliveryResult> {
  // jsonb keeps keys in its own order; send them in the spec's.
  const { event_id, event_type, lead_id, timestamp: at, ...fields } = event.payload;
  const body = JSON.stringify({ event_id, event_type, lead_id, ...fields, timestamp: at });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'lead-service',
    'x-event-id': event.eventId,
    'x-event-type': event.eventType,
    ...traceHeaders(),
  };
  if (options.signingSecret) {
    const timestamp = Math.floor(Date.now() / 1000).toString();
    headers['x-signature-timestamp'] = timestamp;
    headers['x-signature'] = signature(options.signingSecret, timestamp, body);
  }
  let response: Response;
  try {
    // A redirect is not followed: it would turn the POST into a GET, or send the event elsewhere.
    response = await fetch(options.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: abort ? AbortSignal.any([AbortSignal.timeout(options.timeoutMs), abort]) : AbortSignal.timeout(options.timeoutMs),
    });
    // Only the status matters; reading the rest frees the connection for the next event.
    await response.arrayBuffer();
  } catch (error) {
    return { outcome: 'retry', error: describe(error) };
  }
  const { status } = response;
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  const error = `HTTP ${status}`;
  // 408 is the receiver's own timeout; 429 and 5xx say "later"; any other answer will not change by retrying.
  if (status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retry', error, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }
  if (status >= 400) return { outcome: 'refused', error };
  // A redirect or an informational answer: the URL is likely misconfigured, which can be fixed in time.
  return { outcome: 'retry', error };
}
