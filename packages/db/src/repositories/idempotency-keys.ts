import { IdempotencyKeyReusedError } from '../errors.js';
import type { Database } from '../sql.js';
import { writeAudit, type AuditEntry } from './audit.js';
import { findLead, insertLead, type CreateOptions, type LeadRecord, type NewLead } from './leads.js';

/** How long a key is remembered; after that the same key makes a new lead. */
export const IDEMPOTENCY_WINDOW = '24 hours';

export interface IdempotentRequest {
  key: string;
  /** Hash of the normalised input: the same key with another input is refused. */
  requestHash: string;
}

/**
 * Exactly-once lead creation. The key row is the lock: it is claimed with an upsert in the same
 * transaction that creates the lead, so a concurrent request with the same key blocks on the
 * row until that transaction ends, then finds the key taken (and reads its lead) or, if the
 * first one rolled back, claims it itself. An expired key is claimed afresh by the same upsert.
 */
export class IdempotencyKeyRepository {
  constructor(private readonly db: Database) {}

  async createLeadOnce(
    request: IdempotentRequest,
    input: NewLead,
    audit: AuditEntry,
    options: CreateOptions,
  ): Promise<{ lead: LeadRecord; replayed: boolean }> {
    return this.db.transaction(async (tx) => {
      const claimed = await tx.query(
        `insert into lead.idempotency_keys (key, request_hash, lead_id, created_at)
         values ($1, $2, null, now())
         on conflict (key) do update
           set request_hash = excluded.request_hash, lead_id = null, created_at = excluded.created_at
           where idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_WINDOW}'
         returning key`,
        [request.key, request.requestHash],
      );
      if (claimed.length > 0) {
        const lead = await insertLead(tx, input, audit, options);
        await tx.send('update lead.idempotency_keys set lead_id = $2 where key = $1', [request.key, lead.id]);
        return { lead, replayed: false };
      }
      const [row] = await tx.query<{ request_hash: string; lead_id: string }>(
        'select request_hash, lead_id from lead.idempotency_keys where key = $1',
        [request.key],
      );
      if (row?.request_hash !== request.requestHash) throw new IdempotencyKeyReusedError();
      const lead = await findLead(tx, row.lead_id);
      if (!lead) throw new Error(`idempotency key ${request.key} names lead ${row.lead_id}, which does not exist`);
      // The replay hands the lead's data out again: that is recorded like the first answer.
      await writeAudit(tx, audit, [lead.id]);
      return { lead, replayed: true };
    });
  }

  /** Forgets keys older than the window; returns how many. */
  async pruneExpired(): Promise<number> {
    const deleted = await this.db.query(
      `delete from lead.idempotency_keys where created_at < now() - interval '${IDEMPOTENCY_WINDOW}' returning key`,
    );
    return deleted.length;
  }
}
