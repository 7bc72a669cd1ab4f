import { Migration } from '@mikro-orm/migrations';

/**
 * `lead.advisory_xact_lock_nowait`: a transaction-scoped advisory lock taken at once or not at
 * all, failing with `lock_not_available` (55P03) as `for update nowait` does. A create sends its
 * lock, its statement and its commit in one write (issue 18); what goes out with its commit must
 * not wait for a lock, for a client gone meanwhile would find it committed after all. When
 * another create of the same address holds the lock, the create runs as a transaction instead,
 * which waits for it before its commit is sent (`LeadRepository.create`).
 */
export class Migration20261203150000_lock_nowait extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function lead.advisory_xact_lock_nowait(key1 int, key2 int) returns void language plpgsql as $$
      begin
        if not pg_try_advisory_xact_lock(key1, key2) then
          raise exception 'advisory lock (%, %) is held by another transaction', key1, key2 using errcode = 'lock_not_available';
        end if;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function lead.advisory_xact_lock_nowait(int, int);');
  }
}
