// Not public: the one request loop both entries use (timeouts, retries, backoff, Retry-After).
import { ConnectionError, ConnectionTimeoutError, RequestAbortedError, retryAfterSeconds } from '../errors.js';

/** The options every entry takes, named as openai-node names them. */
export interface ClientOptions {
  /** The service, e.g. `https://leads.example.com`. */
  baseURL: string;
  /** Milliseconds to wait for each attempt's answer (default 30 000). */
  timeout?: number | undefined;
  /** Retries after a network failure, a timeout, 408, 429, 502, 503 or 504 (default 2). */
  maxRetries?: number | undefined;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch | undefined;
  /** Sent with every request. */
  headers?: Record<string, string> | undefined;
}

export interface SendOptions {
  timeout: number;
  maxRetries: number;
  fetch: typeof fetch;
  /** Whether the request may be sent again: a query, or a mutation with an idempotency key. */
  retryable: boolean;
  /** Test seam: how long to wait before retry `attempt` (0-based). */
  backoff?: (attempt: number) => number;
}

const RETRY_STATUSES = [408, 429, 502, 503, 504];
/** A longer `Retry-After` is not waited out: the caller gets the error, and its retry time, at once. */
const MAX_RETRY_AFTER_MS = 60_000;

/** 0.5 s, 1 s, 2 s … (at most 8 s), each up to a quarter shorter at random so clients do not retry in step. */
export const backoff = (attempt: number): number => Math.min(500 * 2 ** attempt, 8000) * (1 - Math.random() * 0.25);

export const trimBase = (url: string): string => url.replace(/\/+$/, '');

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(new RequestAbortedError('The request was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * `fetch` with a timeout per attempt and, for retryable requests, retries after network failures
 * and 408/429/502/503/504, waiting what `Retry-After` asks (up to a minute) or else backing off
 * exponentially with jitter. Rejects only with `ConnectionError`, `ConnectionTimeoutError` or
 * `RequestAbortedError`; any answer is returned, the last one when retries run out.
 */
export async function send(url: string, init: RequestInit, options: SendOptions): Promise<Response> {
  const signal = init.signal;
  const delay = options.backoff ?? backoff;
  // Called unbound: browsers throw "Illegal invocation" for a `fetch` called as another object's method.
  const doFetch = options.fetch;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new RequestAbortedError('The request was aborted', { cause: signal.reason });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeout);
    const forward = () => controller.abort();
    signal?.addEventListener('abort', forward, { once: true });
    let response: Response;
    try {
      response = await doFetch(url, { ...init, signal: controller.signal });
    } catch (cause) {
      if (signal?.aborted) throw new RequestAbortedError('The request was aborted', { cause });
      const error = timedOut
        ? new ConnectionTimeoutError(`No answer from the lead service within ${options.timeout} ms`, { cause })
        : new ConnectionError('The lead service could not be reached', { cause });
      if (!options.retryable || attempt >= options.maxRetries) throw error;
      await sleep(delay(attempt), signal);
      continue;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
    if (!options.retryable || attempt >= options.maxRetries || !RETRY_STATUSES.includes(response.status)) return response;
    const seconds = retryAfterSeconds(response.headers.get('retry-after'));
    const wait = seconds === null ? delay(attempt) : seconds * 1000;
    if (wait > MAX_RETRY_AFTER_MS) return response;
    // Frees the connection; the answer itself is not needed.
    await response.body?.cancel().catch(() => undefined);
    await sleep(wait, signal);
  }
}
