// `@lead-service/sdk/receiver`: for the notification service and anyone else the Lead Service
// POSTs its events to. Web Crypto only, so it runs on Node 20+, Deno, Bun and edge runtimes.
import { LeadServiceError } from './errors.js';
import type { EventType, LeadSource, LeadStatus, LostReason } from './types.js';

export type { EventType, LeadSource, LeadStatus, LostReason };

interface EventBase<T extends EventType> {
  /** Deduplicate by this: a retry after a lost answer repeats an event. Also `X-Event-Id`. */
  event_id: string;
  event_type: T;
  lead_id: string;
  /** When the change happened, ISO 8601. */
  timestamp: string;
}
export interface LeadCreated extends EventBase<'LeadCreated'> {
  /** Null when the lead was erased before the event was delivered (a `LeadErased` follows). */
  email: string | null;
  source: LeadSource;
  /** The utm parameters of the submission's attribution (null when it carried none; absent from events written before the service recorded attribution). */
  utm_source?: string | null;
  utm_medium?: string | null;
  utm_campaign?: string | null;
  utm_term?: string | null;
  utm_content?: string | null;
}
export interface LeadStatusChanged extends EventBase<'LeadStatusChanged'> {
  old_status: LeadStatus;
  new_status: LeadStatus;
  /** Why the lead was lost; null unless `new_status` is `closed_lost`. */
  lost_reason?: LostReason | null;
}
export interface LeadAssigned extends EventBase<'LeadAssigned'> {
  old_assigned_to: string | null;
  new_assigned_to: string | null;
}
/** Contact fields or the priority were corrected; names the fields, never their values. */
export interface LeadUpdated extends EventBase<'LeadUpdated'> {
  changed_fields: string[];
}
/** `lead_id` was merged into `merged_into` (and closed as lost, duplicate). */
export interface LeadMerged extends EventBase<'LeadMerged'> {
  merged_into: string;
  /** The fields of `merged_into` filled from the merged lead. */
  filled_fields: string[];
}
/** The lead's personal data was erased: erase every copy of it you hold. Carries the lead id only. */
export type LeadErased = EventBase<'LeadErased'>;
/** Every event the Lead Service sends; narrow it by `event_type`. */
export type LeadServiceEvent = LeadCreated | LeadStatusChanged | LeadAssigned | LeadUpdated | LeadMerged | LeadErased;

/** The signature is missing, wrong or too old: answer 400 or 401, and do not process the body. */
export class SignatureVerificationError extends LeadServiceError {
  override name = 'SignatureVerificationError';
}
/** The body is not an event this SDK knows. */
export class EventParseError extends LeadServiceError {
  override name = 'EventParseError';
}

/** `Headers`, or Node's `req.headers` (lower-case names). */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** `NOTIFICATION_SIGNING_SECRET` of the Lead Service. */
  secret: string;
  headers: HeadersLike;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Uint8Array;
  /** How old a signature may be, in seconds (default 300), so a captured request cannot be replayed later. */
  toleranceSeconds?: number;
  /** Unix seconds; for tests. */
  now?: number;
}

const header = (headers: HeadersLike, name: string): string | undefined => {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? undefined;
};

const encoder = new TextEncoder();
const bytes = (body: string | Uint8Array) => (typeof body === 'string' ? encoder.encode(body) : body);

/** Why a delivery is not authentic, or null when it is. */
async function signatureProblem(options: VerifyOptions): Promise<string | null> {
  const timestamp = header(options.headers, 'x-signature-timestamp');
  const given = header(options.headers, 'x-signature');
  if (!timestamp || !given) return 'X-Signature or X-Signature-Timestamp is missing';
  if (!/^\d+$/.test(timestamp)) return 'X-Signature-Timestamp is not a Unix time';
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return 'the signature is outside the tolerance';
  const hex = /^v1=([0-9a-f]{64})$/.exec(given)?.[1];
  if (!hex) return 'X-Signature is not v1=<hex HMAC-SHA256>';
  const key = await crypto.subtle.importKey('raw', encoder.encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const prefix = encoder.encode(`${timestamp}.`);
  const body = bytes(options.rawBody);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const signature = new Uint8Array(hex.match(/../g)!.map((pair) => parseInt(pair, 16)));
  // subtle.verify compares in constant time.
  return (await crypto.subtle.verify('HMAC', key, signature, signed)) ? null : 'the signature does not match';
}

/** True when `rawBody` was signed by the Lead Service with `secret` within the tolerance. */
export async function verifyLeadEventSignature(options: VerifyOptions): Promise<boolean> {
  return (await signatureProblem(options)) === null;
}

// Records, so that the compiler insists on every value of each union, and on no other.
const SOURCES: Record<LeadSource, 1> = { website: 1, referral: 1, social: 1, other: 1 };
const STATUSES: Record<LeadStatus, 1> = { new: 1, contacted: 1, qualified: 1, proposal: 1, closed_won: 1, closed_lost: 1 };
const isString = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is string | null => v === null || isString(v);
// Events written before attribution was recorded carry no utm fields at all.
const isUtm = (v: unknown): v is string | null | undefined => v === undefined || isId(v);
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const oneOf = (set: Record<string, 1>) => (v: unknown) => isString(v) && Object.hasOwn(set, v);
const FIELDS: Record<EventType, Record<string, (v: unknown) => boolean>> = {
  LeadCreated: {
    email: isId,
    source: oneOf(SOURCES),
    utm_source: isUtm,
    utm_medium: isUtm,
    utm_campaign: isUtm,
    utm_term: isUtm,
    utm_content: isUtm,
  },
  LeadStatusChanged: { old_status: oneOf(STATUSES), new_status: oneOf(STATUSES) },
  LeadAssigned: { old_assigned_to: isId, new_assigned_to: isId },
  LeadUpdated: { changed_fields: isNames },
  LeadMerged: { merged_into: isString, filled_fields: isNames },
  LeadErased: {},
};

/** The typed event in a (verified) body; throws `EventParseError` for anything else. */
export function parseLeadEvent(rawBody: string | Uint8Array): LeadServiceEvent {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody)) as Record<string, unknown>;
  } catch (cause) {
    throw new EventParseError('The body is not JSON', { cause });
  }
  const type = event?.event_type;
  const fields = isString(type) && Object.hasOwn(FIELDS, type) ? FIELDS[type as EventType] : undefined;
  if (!fields) throw new EventParseError(`Unknown event type ${JSON.stringify(type)}`);
  const checks = { event_id: isString, lead_id: isString, timestamp: isString, ...fields };
  const bad = Object.keys(checks).filter((name) => !checks[name as keyof typeof checks](event[name]));
  if (bad.length) throw new EventParseError(`${String(type)} has missing or invalid ${bad.join(', ')}`);
  return event as unknown as LeadServiceEvent;
}

/**
 * Verifies a delivery and returns its typed event (Stripe's `constructEvent`): throws
 * `SignatureVerificationError` when it is not authentic, `EventParseError` when the body is not an event.
 */
export async function constructLeadEvent(options: VerifyOptions): Promise<LeadServiceEvent> {
  const problem = await signatureProblem(options);
  if (problem) throw new SignatureVerificationError(`Not a delivery from the Lead Service: ${problem}`);
  return parseLeadEvent(options.rawBody);
}
