// The service's inputs and outputs as plain TypeScript, so the published declarations need
// neither zod nor the private contracts. The enumerations are read from the contracts' constant
// tuples (inlined by the declaration build); every shape is proved equal to the contracts' own
// `z.input` / `z.output` in test/types.test.ts, so the two cannot drift apart.
import type {
  ACTIVITY_TYPES,
  CLIENT_ACTIVITY_TYPES,
  ERROR_STATUS,
  EVENT_STATES,
  EVENT_TYPES,
  LEAD_PRIORITIES,
  LEAD_SORTS,
  LEAD_SOURCES,
  LEAD_STATUSES,
  LOST_REASONS,
  RETENTION_RUN_OUTCOMES,
} from '@lead/contracts';

/** The service's stable error codes; each maps to one HTTP status. */
export type ErrorCode = keyof typeof ERROR_STATUS;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export type LeadSource = (typeof LEAD_SOURCES)[number];
export type LeadPriority = (typeof LEAD_PRIORITIES)[number];
/** Why a lead was closed as `closed_lost`. */
export type LostReason = (typeof LOST_REASONS)[number];
/** What a list is ordered by (default `created_at`); ties are broken by id. */
export type LeadSort = (typeof LEAD_SORTS)[number];
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
/** The activity types a client may add; the others are written by the service. */
export type ClientActivityType = (typeof CLIENT_ACTIVITY_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];
export type EventState = (typeof EVENT_STATES)[number];

/** What is wrong with a field: Zod 4's issue codes, passed on unchanged. */
export type ValidationIssueCode =
  | 'invalid_type'
  | 'invalid_format'
  | 'invalid_value'
  | 'invalid_union'
  | 'invalid_key'
  | 'invalid_element'
  | 'too_small'
  | 'too_big'
  | 'not_multiple_of'
  | 'unrecognized_keys'
  | 'custom';

/** One problem with one field of the input, exactly as the service sends it. */
export interface ValidationIssue {
  /** The field at fault, e.g. `["email"]`. */
  path: (string | number)[];
  code: ValidationIssueCode;
  /** Safe to show next to the field. */
  message: string;
  /** With `too_small`: the least allowed length (strings, arrays) or value (numbers). */
  minimum?: number;
  /** With `too_big`: the greatest allowed length (strings, arrays) or value (numbers). */
  maximum?: number;
}

// ---- inputs ---------------------------------------------------------------------------------

/** One arrival of a visitor: its utm parameters, referrer and pages (URLs, http or https). */
export interface AttributionTouchInput {
  utm_source?: string | undefined;
  utm_medium?: string | undefined;
  utm_campaign?: string | undefined;
  utm_term?: string | undefined;
  utm_content?: string | undefined;
  referrer?: string | undefined;
  landing_page?: string | undefined;
  page?: string | undefined;
}

/** The visitor's first arrival, remembered by the site across visits. */
export interface FirstTouchInput extends AttributionTouchInput {
  /** When the visitor first arrived (ISO 8601). */
  at?: string | undefined;
}

/** Where the visitor came from: the latest arrival, and the first. Unknown fields are refused. */
export interface AttributionInput extends AttributionTouchInput {
  first_touch?: FirstTouchInput | undefined;
}

/** An arrival as stored: URLs without query parameters other than `utm_*` and click ids. */
export interface AttributionTouch {
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  referrer: string | null;
  landing_page: string | null;
  page: string | null;
}

export interface FirstTouch extends AttributionTouch {
  at: string | null;
}

export interface Attribution extends AttributionTouch {
  first_touch: FirstTouch | null;
}

/** An enquiry from the website form. */
export interface CreateLeadInput {
  name: string;
  email: string;
  phone?: string | null | undefined;
  company?: string | null | undefined;
  message?: string | null | undefined;
  /** Default `website`. */
  source?: LeadSource | undefined;
  /** The honeypot: leave empty. */
  website?: string | undefined;
  attribution?: AttributionInput | undefined;
  /** What the visitor agreed to; the service may require `policy_version` (`REQUIRE_CONSENT`). */
  consent?: ConsentInput | undefined;
}

/** What the visitor agreed to on the form. Unknown fields are refused. */
export interface ConsentInput {
  /** The version of the privacy policy accepted (at most 100 characters). */
  policy_version?: string | undefined;
  /** Agreed to marketing messages; default false. A JSON boolean, never a string. */
  marketing?: boolean | undefined;
  /** The wording shown (at most 2000 characters). */
  text?: string | null | undefined;
}

/** A consent as stored: with the page it was given on and when. */
export interface Consent {
  policy_version: string | null;
  marketing: boolean;
  text: string | null;
  /** Removed when the lead is erased. */
  page: string | null;
  given_at: Date;
}

export interface ListLeadsInput {
  status?: LeadStatus | undefined;
  source?: LeadSource | undefined;
  assigned_to?: string | undefined;
  utm_source?: string | undefined;
  utm_medium?: string | undefined;
  utm_campaign?: string | undefined;
  lost_reason?: LostReason | undefined;
  /** `exclude`: leave out leads detected as duplicates; `only`: only those. */
  duplicates?: 'exclude' | 'only' | undefined;
  /** Search: a case- and accent-insensitive substring of name, e-mail, company or message, or phone digits. */
  q?: string | undefined;
  sort?: LeadSort | undefined;
  /** Default `desc`; `asc` with `updated_since`. */
  order?: 'asc' | 'desc' | undefined;
  /** Keyset paging: the `next_cursor` of the previous page, with the same `sort` and `order`. */
  cursor?: string | undefined;
  /** Sync: leads written at or after this time (ISO 8601), in the order they were written. */
  updated_since?: string | undefined;
  /** From 1 (default 1). */
  page?: number | undefined;
  /** 1 to 100 (default 20). */
  limit?: number | undefined;
}

export interface LeadIdInput {
  lead_id: string;
}

export interface UpdateLeadStatusInput {
  lead_id: string;
  status: LeadStatus;
  notes?: string | null | undefined;
  /** Required when `status` is `closed_lost`; refused with any other status. */
  lost_reason?: LostReason | undefined;
}

/** Corrects contact fields or the priority: give at least one; null or empty clears phone, company, message. */
export interface UpdateLeadInput {
  lead_id: string;
  name?: string | undefined;
  email?: string | undefined;
  phone?: string | null | undefined;
  company?: string | null | undefined;
  message?: string | null | undefined;
  priority?: LeadPriority | undefined;
}

export interface MergeLeadInput {
  /** The lead to merge away (the duplicate). */
  lead_id: string;
  /** The lead that remains and receives the timeline. */
  into: string;
}

export interface AssignLeadInput {
  lead_id: string;
  /** null unassigns. */
  assigned_to: string | null;
}

export interface AddActivityInput {
  lead_id: string;
  activity_type: ClientActivityType;
  description: string;
}

export interface ListAuditInput {
  lead_id?: string | undefined;
  actor?: string | undefined;
  /** ISO 8601, inclusive. */
  from?: string | undefined;
  /** ISO 8601, exclusive. */
  to?: string | undefined;
  page?: number | undefined;
  limit?: number | undefined;
}

export interface ListEventsInput {
  state?: EventState | undefined;
  page?: number | undefined;
  limit?: number | undefined;
}

export interface EventIdInput {
  event_id: string;
}

// ---- outputs --------------------------------------------------------------------------------

export interface Health {
  status: 'ok';
  database: 'ok';
}

/** `GET /health/live`: the process and its event loop answer. */
export interface Liveness {
  status: 'ok';
}

/** `GET /health/ready`: the database answers, migrations are applied, the service is not draining. */
export interface Readiness {
  status: 'ok';
  database: 'ok';
  migrations: 'applied';
}

/** The public answer to a submission. */
export interface CreatedLead {
  id: string;
  name: string;
  email: string;
  status: LeadStatus;
  created_at: Date;
}

export interface LeadSummary {
  id: string;
  name: string;
  email: string;
  company: string | null;
  status: LeadStatus;
  source: LeadSource;
  priority: LeadPriority;
  assigned_to: string | null;
  lost_reason: LostReason | null;
  /** The older open lead with the same e-mail, when this one was detected as its duplicate. */
  duplicate_of: string | null;
  /** The lead this one was merged into. */
  merged_into: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface LeadPage {
  items: LeadSummary[];
  total: number;
  page: number;
  limit: number;
  /** Pass as `cursor` for the next page; null after the last one. A sync always returns one. */
  next_cursor: string | null;
}

export interface Activity {
  id: string;
  activity_type: ActivityType;
  description: string | null;
  details: Record<string, string | null> | null;
  performed_by: string | null;
  created_at: Date;
}

export interface LeadDetail {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  company: string | null;
  message: string | null;
  source: LeadSource;
  status: LeadStatus;
  priority: LeadPriority;
  assigned_to: string | null;
  lost_reason: LostReason | null;
  duplicate_of: string | null;
  merged_into: string | null;
  /** Null when the submission carried none. */
  attribution: Attribution | null;
  /** Oldest first. */
  activities: Activity[];
  /** Consents given with its submission, oldest first. */
  consents: Consent[];
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  /** When its personal data was erased; null while it holds any. */
  erased_at: Date | null;
}

/** A period and the list's filters: what every report is computed over. */
export interface ReportFilters {
  /** ISO 8601, inclusive. */
  from?: string | undefined;
  /** ISO 8601, exclusive. */
  to?: string | undefined;
  status?: LeadStatus | undefined;
  source?: LeadSource | undefined;
  assigned_to?: string | undefined;
  utm_source?: string | undefined;
  utm_medium?: string | undefined;
  utm_campaign?: string | undefined;
}
export type PipelineReportInput = ReportFilters;
export type ReportGroup = 'source' | 'utm_source' | 'utm_medium' | 'utm_campaign';
export interface SourcesReportInput extends ReportFilters {
  /** Default `source`. */
  group_by?: ReportGroup | undefined;
}

export interface StageFigures {
  stage: LeadStatus;
  entered: number;
  converted_to_next: number | null;
  conversion_to_next: number | null;
  converted_to_won: number | null;
  conversion_to_won: number | null;
  stints: number;
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface PipelineReport {
  from: Date | null;
  to: Date | null;
  leads: number;
  by_status: Record<LeadStatus, number>;
  stages: StageFigures[];
  won: number;
  lost: number;
  win_rate: number | null;
}

export interface SourceGroup {
  key: string | null;
  leads: number;
  reached_qualified: number;
  won: number;
  lost: number;
  conversion_to_won: number | null;
  median_days_to_close: number | null;
}

export interface SourcesReport {
  from: Date | null;
  to: Date | null;
  group_by: ReportGroup;
  groups: SourceGroup[];
  total: { leads: number; reached_qualified: number; won: number; lost: number };
}

export interface LeadStatusResult {
  id: string;
  status: LeadStatus;
  lost_reason: LostReason | null;
  updated_at: Date;
  closed_at: Date | null;
}

export interface LeadAssignment {
  id: string;
  assigned_to: string | null;
  updated_at: Date;
}

export interface AuditEntry {
  id: string;
  actor: string | null;
  actor_role: string | null;
  action: string;
  lead_ids: string[];
  request_id: string;
  client_ip: string;
  user_agent: string | null;
  created_at: Date;
  /** Why the change was made, when the caller said (an erasure's reason). */
  reason: string | null;
}

export interface AuditPage {
  items: AuditEntry[];
  total: number;
  page: number;
  limit: number;
}

/** An event in the outbox, as the admin procedures show it. */
export interface OutboxEvent {
  event_id: string;
  event_type: EventType;
  lead_id: string;
  state: EventState;
  payload: Record<string, string | string[] | null>;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export interface EventPage {
  items: OutboxEvent[];
  total: number;
  page: number;
  limit: number;
}

export interface EventStats {
  pending: number;
  delivered: number;
  dead: number;
  oldest_pending_age_seconds: number | null;
}

/** A lead retention rule: its age in days (null: off) and the leads it matches now. */
export interface RetentionLeadRule {
  days: number | null;
  would_erase: number;
}

/** The retention rules in force, what each would do now, and the last run (`privacy.retention`). */
export interface RetentionOverview {
  as_of: Date;
  rules: {
    closed_leads: RetentionLeadRule;
    inactive_leads: RetentionLeadRule;
    event_payloads: { days: number | null; would_strip: number };
    audit_rows: { days: number | null; would_drop: number };
  };
  interval_ms: number;
  batch_size: number;
  last_run: RetentionRun | null;
}

export type RetentionRunOutcome = (typeof RETENTION_RUN_OUTCOMES)[number];

/** One run of the retention job, and what each rule did in it. */
export interface RetentionRun {
  id: string;
  started_at: Date;
  finished_at: Date | null;
  outcome: RetentionRunOutcome;
  closed_leads: number;
  inactive_leads: number;
  event_payloads: number;
  audit_rows: number;
  error: string | null;
}

/** What a failed tRPC call carries in `error.data`. */
export interface LeadErrorData {
  code: string;
  httpStatus: number;
  path?: string;
  request_id: string;
  issues?: ValidationIssue[];
}

/** The error shape on the tRPC surface. */
export interface LeadErrorShape {
  message: string;
  code: number;
  data: LeadErrorData;
}

// ---- personal data ----------------------------------------------------------------------------

export interface ExportInput {
  /** Matched trimmed and case-insensitively. */
  email: string;
}

/** Exactly one of `email` and `lead_id`. Unknown fields are refused. */
export interface EraseInput {
  email?: string | undefined;
  lead_id?: string | undefined;
  /** Count what would change and change nothing. */
  dry_run?: boolean | undefined;
  /** For the audit trail and the erasure record (at most 500 characters); no personal data. */
  reason?: string | null | undefined;
}

/** Rows changed (or that would be changed) per table. */
export interface ErasureCounts {
  leads: number;
  lead_attributions: number;
  lead_consents: number;
  lead_activities: number;
  outbox_events: number;
  idempotency_keys: number;
}

export interface LeadErasure {
  lead_id: string;
  /** It had been erased before; the counts are what was left. */
  already_erased: boolean;
  /** Null in a dry run of a lead not yet erased. */
  erased_at: Date | null;
  counts: ErasureCounts;
}

export interface ErasureResult {
  dry_run: boolean;
  leads: LeadErasure[];
  totals: ErasureCounts;
}

/** Proof that a lead with the address was erased (the address itself is not kept). */
export interface ErasureRecord {
  lead_id: string;
  erased_at: Date;
  /** null for a retention rule. */
  actor: string | null;
  actor_role: string | null;
  reason: string | null;
}

/** A lead with all its columns and the events sent about it. */
export interface ExportedLead extends LeadDetail {
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  events: OutboxEvent[];
}

/** Everything held about one address. */
export interface PersonalDataExport {
  leads: ExportedLead[];
  /** Oldest first, at most 10,000. */
  audit: AuditEntry[];
  audit_total: number;
  erased: boolean;
  erasures: ErasureRecord[];
}
