import { createHmac } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { AttributionRecord } from '../attribution.js';
import { LeadNotFoundError } from '../errors.js';
import type { Database, Sql } from '../sql.js';
import { AUDIT_COLUMNS, writeAudit, type AuditEntry, type AuditRecord } from './audit.js';
import {
  ACTIVITY_COLUMNS,
  ATTRIBUTION_COLUMNS,
  CONSENT_COLUMNS,
  LEAD_COLUMNS,
  recordEvent,
  type ActivityRecord,
  type ConsentRecord,
  type LeadRecord,
} from './leads.js';
import { EVENT_COLUMNS, type EventRecord } from './outbox.js';

/** The tables an erasure changes, in the order it changes them. */
export const ERASURE_TABLES = [
  'leads',
  'lead_attributions',
  'lead_consents',
  'lead_activities',
  'outbox_events',
  'idempotency_keys',
] as const;
export type ErasureTable = (typeof ERASURE_TABLES)[number];
/** Rows changed (or removed, for `idempotency_keys`) per table. */
export type ErasureCounts = Record<ErasureTable, number>;

/** The name an erased lead keeps (the column is required); its e-mail becomes `erasedEmail(id)`. */
export const ERASED_NAME = 'Erased';
/** A unique address in the reserved `.invalid` domain (RFC 2606): no mail can ever reach it. */
export const erasedEmail = (leadId: string): string => `erased-${leadId}@invalid`;

export interface EraseOptions {
  /** Who erases and from where: the audit row and the erasure record name them. */
  actor: AuditEntry;
  /** Why (kept in the audit row and the erasure record): never personal data. */
  reason: string | null;
  /** Count what would change and change nothing (the audit row is still written). */
  dryRun: boolean;
}

export interface LeadErasure {
  leadId: string;
  dryRun: boolean;
  /** It had been erased before this call (then the counts are what was left to erase, usually 0). */
  alreadyErased: boolean;
  /** When it was erased: now, or earlier when it already was; null in a dry run of a lead not yet erased. */
  erasedAt: Date | null;
  counts: ErasureCounts;
}

/** Proof of one erasure (the columns of `lead.erasures` but the hash). */
export interface ErasureRecord {
  leadId: string;
  actorSub: string | null;
  actorRole: string | null;
  reason: string | null;
  erasedAt: Date;
}

/** Everything held about one address. */
export interface PersonalDataExport {
  leads: Array<{
    lead: LeadRecord;
    attribution: AttributionRecord | null;
    activities: ActivityRecord[];
    consents: ConsentRecord[];
    events: EventRecord[];
  }>;
  /** The audit entries naming any of those leads, oldest first, at most `EXPORT_AUDIT_LIMIT`. */
  audit: AuditRecord[];
  /** How many audit entries name them in all. */
  auditTotal: number;
  /** Erasures of leads that had this address. */
  erasures: ErasureRecord[];
}

/** A lead read on every list page is named by many audit rows: an export lists the oldest this many. */
export const EXPORT_AUDIT_LIMIT = 10_000;

/** An address as leads are matched on it (`email_key`): trimmed and lower-cased. */
const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Thrown inside a dry run's transaction so that everything it did is rolled back. */
class DryRun extends Error {
  constructor(readonly result: LeadErasure) {
    super('dry run');
  }
}

/**
 * Consent, access and erasure of personal data. An erasure anonymises a lead instead of deleting
 * it, so that every count and report stays exactly as it was: its status, source, priority,
 * assignee, timestamps, utm parameters and the shape of its timeline remain, and the personal
 * data goes from every table that holds it.
 */
export class PrivacyRepository {
  constructor(
    private readonly db: Database,
    private readonly options: {
      /** Key of the HMAC-SHA256 that erasure records hold instead of the address (`ERASURE_HASH_SECRET`). */
      erasureHashSecret: string;
    },
  ) {}

  /** The keyed hash an erasure record holds for `email` (hex). */
  emailHash(email: string): string {
    return createHmac('sha256', this.options.erasureHashSecret).update(normalizeEmail(email)).digest('hex');
  }

  /** The leads with this address (trimmed, case-insensitive), oldest first. */
  async leadIdsByEmail(email: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      'select id from lead.leads where email_key = lower(btrim($1)) order by created_at, id',
      [email.trim()],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Anonymises one lead in one transaction that holds its row lock (`for update`), so that a
   * concurrent change of the lead happens wholly before or wholly after it:
   *
   * - `leads`: name becomes `ERASED_NAME`, e-mail `erasedEmail(id)` (unique, undeliverable), phone,
   *   company and message null; `erased_at` set. Status, source, priority, assignee, timestamps
   *   and utm parameters stay, so list totals, `lead_counts` and the reports do not move.
   * - `lead_attributions`: referrer, landing page and page (also of the first touch) removed.
   * - `lead_consents`: the page removed; policy version, marketing, wording and time kept as proof.
   * - `lead_activities`: what people wrote (notes, contacts, status-change notes) cleared.
   * - `outbox_events`: every personal field of every payload (pending, delivered, dead) set to null
   *   (`lead.strip_personal_fields`).
   * - `idempotency_keys`: the keys of its submission removed.
   *
   * Then, unless nothing was left to erase: a `LeadErased` event (`lead_id` only) for the
   * notification service, and an erasure record with the keyed hash of the address. The audit
   * row (with `reason`) names the lead and never a value. `dryRun` does all of it in a
   * transaction that is rolled back (without the event and record), and only the audit row
   * remains. Throws `LeadNotFoundError` for an unknown id.
   */
  async eraseLead(leadId: string, options: EraseOptions): Promise<LeadErasure> {
    return (await this.erase(leadId, options, null))!;
  }

  /**
   * `eraseLead`, if `onlyIf` (asked in the erasing transaction once the lead's row is locked)
   * answers true; otherwise nothing is erased, audited or sent, and the answer is null. An
   * erasure by rule asks its rule again there, so a lead reopened since it was picked stays.
   */
  eraseLeadIf(leadId: string, options: EraseOptions, onlyIf: (tx: Sql) => Promise<boolean>): Promise<LeadErasure | null> {
    return this.erase(leadId, options, onlyIf);
  }

  private async erase(leadId: string, options: EraseOptions, onlyIf: ((tx: Sql) => Promise<boolean>) | null): Promise<LeadErasure | null> {
    try {
      return await this.db.transaction(async (tx) => {
        const [lead] = await tx.query<LeadRecord>(`select ${LEAD_COLUMNS} from lead.leads where id = $1 for update`, [leadId]);
        if (!lead) throw new LeadNotFoundError(leadId);
        if (onlyIf && !(await onlyIf(tx))) return null;
        const now = new Date();
        const counts = await anonymise(tx, leadId, now);
        const result: LeadErasure = {
          leadId,
          dryRun: options.dryRun,
          alreadyErased: lead.erasedAt !== null,
          erasedAt: lead.erasedAt ?? (options.dryRun ? null : now),
          counts,
        };
        if (options.dryRun) throw new DryRun(result);
        if (Object.values(counts).some((n) => n > 0)) {
          await recordEvent(tx, 'LeadErased', leadId, {}, now);
          if (counts.leads > 0) {
            await tx.query(
              `insert into lead.erasures (id, lead_id, email_hash, actor_sub, actor_role, reason, erased_at)
               values ($1, $2, $3, $4, $5, $6, $7)`,
              [uuidv7(), leadId, this.emailHash(lead.email), options.actor.actorSub, options.actor.actorRole, options.reason, now],
            );
          }
        }
        await writeAudit(tx, options.actor, [leadId], options.reason);
        return result;
      });
    } catch (error) {
      if (!(error instanceof DryRun)) throw error;
      await writeAudit(this.db, options.actor, [leadId], options.reason);
      return error.result;
    }
  }

  /** Erases every lead with this address (trimmed, case-insensitive), each in its own transaction. */
  async eraseByEmail(email: string, options: EraseOptions): Promise<LeadErasure[]> {
    const erased: LeadErasure[] = [];
    for (const id of await this.leadIdsByEmail(email)) erased.push(await this.eraseLead(id, options));
    return erased;
  }

  /** The erasures of leads that had this address: the answer to "was this person erased?". */
  async erasuresOf(email: string): Promise<ErasureRecord[]> {
    return this.erasuresOfIn(this.db, email);
  }

  /**
   * Everything held about an address, read in one snapshot: its leads with all their columns,
   * attribution, consents, activities and events (with payloads), the audit entries of who read
   * or changed them, and the erasures of leads that had it.
   */
  async exportByEmail(email: string): Promise<PersonalDataExport> {
    return this.db.transaction(async (tx) => {
      await tx.query('set transaction isolation level repeatable read, read only');
      const leads = await tx.query<LeadRecord>(
        `select ${LEAD_COLUMNS} from lead.leads where email_key = lower(btrim($1)) order by created_at, id`,
        [email.trim()],
      );
      const ids = leads.map((l) => l.id);
      const [attributions, activities, consents, events, audit, [auditCount], erasures] = await Promise.all([
        tx.query<AttributionRecord & { leadId: string }>(
          `select lead_id as "leadId", ${ATTRIBUTION_COLUMNS} from lead.lead_attributions where lead_id = any($1::uuid[])`,
          [ids],
        ),
        tx.query<ActivityRecord>(
          `select ${ACTIVITY_COLUMNS} from lead.lead_activities where lead_id = any($1::uuid[]) order by created_at, id`,
          [ids],
        ),
        tx.query<ConsentRecord>(`select ${CONSENT_COLUMNS} from lead.lead_consents where lead_id = any($1::uuid[]) order by given_at, id`, [
          ids,
        ]),
        tx.query<EventRecord>(`select ${EVENT_COLUMNS} from lead.outbox_events where lead_id = any($1::uuid[]) order by seq`, [ids]),
        tx.query<AuditRecord>(
          `select ${AUDIT_COLUMNS} from lead.audit_log where lead_ids && $1::uuid[] order by created_at, id limit ${EXPORT_AUDIT_LIMIT}`,
          [ids],
        ),
        tx.query<{ n: string }>('select count(*) as n from lead.audit_log where lead_ids && $1::uuid[]', [ids]),
        this.erasuresOfIn(tx, email),
      ]);
      return {
        leads: leads.map((lead) => {
          const attribution = attributions.find((a) => a.leadId === lead.id);
          const { leadId: _leadId, ...stored } = attribution ?? { leadId: '' };
          return {
            lead,
            attribution: attribution ? (stored as AttributionRecord) : null,
            activities: activities.filter((a) => a.leadId === lead.id),
            consents: consents.filter((c) => c.leadId === lead.id),
            events: events.filter((e) => e.leadId === lead.id),
          };
        }),
        audit,
        auditTotal: Number(auditCount!.n),
        erasures,
      };
    });
  }

  private erasuresOfIn(sql: Sql, email: string): Promise<ErasureRecord[]> {
    return sql.query<ErasureRecord>(
      `select lead_id as "leadId", actor_sub as "actorSub", actor_role as "actorRole", reason, erased_at as "erasedAt"
         from lead.erasures where email_hash = $1 order by erased_at, id`,
      [this.emailHash(email)],
    );
  }
}

/**
 * The statements of an erasure, each changing only rows that still hold something to erase, sent
 * as one statement (data-modifying CTEs, each run once) to save five round trips per lead.
 */
async function anonymise(tx: Sql, leadId: string, now: Date): Promise<ErasureCounts> {
  const [counts] = await tx.query<Record<ErasureTable, string>>(
    `with
       leads as (
         update lead.leads set name = $2, email = $3, phone = null, company = null, message = null, erased_at = coalesce(erased_at, $4)
          where id = $1 and (name, email, phone, company, message) is distinct from ($2, $3, null, null, null)
         returning 1),
       lead_attributions as (
         update lead.lead_attributions
            set referrer = null, landing_page = null, page = null,
                first_touch = first_touch || '{"referrer": null, "landing_page": null, "page": null}'::jsonb
          where lead_id = $1
            and (referrer is not null or landing_page is not null or page is not null
                 or first_touch->>'referrer' is not null or first_touch->>'landing_page' is not null or first_touch->>'page' is not null)
         returning 1),
       lead_consents as (update lead.lead_consents set page = null where lead_id = $1 and page is not null returning 1),
       -- Descriptions people typed; the service's own (creation, assignment, field names…) hold no personal data.
       lead_activities as (
         update lead.lead_activities set description = null
          where lead_id = $1 and description is not null and performed_by is not null
            and activity_type in ('note_added', 'contacted', 'status_changed')
         returning 1),
       outbox_events as (
         update lead.outbox_events set payload = lead.strip_personal_fields(payload)
          where lead_id = $1 and payload is distinct from lead.strip_personal_fields(payload)
         returning 1),
       idempotency_keys as (delete from lead.idempotency_keys where lead_id = $1 returning 1)
     select ${ERASURE_TABLES.map((table) => `(select count(*) from ${table}) as ${table}`).join(', ')}`,
    [leadId, ERASED_NAME, erasedEmail(leadId), now],
  );
  return Object.fromEntries(ERASURE_TABLES.map((table) => [table, Number(counts![table])])) as ErasureCounts;
}
