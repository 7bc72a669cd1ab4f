import { Migration } from '@mikro-orm/migrations';

const FIELDS = ['name', 'email', 'company', 'phone', 'message'] as const;
/** What the table holds of the lead besides its document: the default order of a search's matches. */
const COPIED = [...FIELDS, 'created_at'] as const;
const row = (record: 'old' | 'new') => `(${COPIED.map((f) => `${record}.${f}`).join(', ')})`;
const contact = (record: 'old' | 'new') => `(${FIELDS.map((f) => `${record}.${f}`).join(', ')})`;
const NEW_DOCUMENT = `lead.search_document(${FIELDS.map((f) => `new.${f}`).join(', ')})`;

/**
 * The searched document and its trigram index move from `lead.leads` to a table of their own,
 * `lead.lead_search`, written only when a lead is created or one of its contact fields changes
 * (issue 18). A status change, assignment or close updates a lead's row with a new version
 * (its sort and filter columns are indexed, so never in place), and every index of the table,
 * the trigram one too, then takes an entry for it: for the trigram index that was every trigram
 * of the lead's document, added to its pending list and later merged. Measured at a million leads
 * (pg_walinspect, bench/README.md "Session 11"), a fifth of a status change's WAL went there.
 *
 * `lead.leads_search_write` keeps the table: a row per lead, inserted with the lead, rewritten
 * when a contact field changes, removed with the lead (no foreign key: the check would lock the
 * lead's row in every create for what the trigger already guarantees). It holds the lead's
 * `created_at` too: a search in the default order with no other filter collects, counts and
 * orders its matches from this table alone, and reads only its page's leads.
 *
 * A new row's trigrams wait in the index's pending list until it is merged, and every search
 * reads that whole list: left to PostgreSQL (a merge once it exceeds 4 MB, or by autovacuum,
 * which a table that only takes inserts rarely gets) it held ~400 pages during the bench's
 * creates and a search at 10k leads cost 10 ms instead of 1. Each fold (every 500 ms) now merges
 * it, so a search reads at most what the last half second added.
 */
export class Migration20261203190000_search_table extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."lead_search" ("lead_id" uuid not null, "created_at" timestamptz not null, "search_text" text not null, primary key ("lead_id"));`,
    );
    this.addSql(
      `insert into "lead"."lead_search" ("lead_id", "created_at", "search_text") select "id", "created_at", "search_text" from "lead"."leads";`,
    );
    this.addSql(`create index "lead_search_trgm_idx" on "lead"."lead_search" using gin ("search_text" gin_trgm_ops);`);
    this.addSql(`create statistics "lead"."lead_search_trigrams" on (show_trgm("search_text")) from "lead"."lead_search";`);
    this.addSql(`create function "lead"."leads_search_write"() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    delete from lead.lead_search where lead_id = old.id;
  elsif tg_op = 'INSERT' then
    insert into lead.lead_search (lead_id, created_at, search_text) values (new.id, new.created_at, ${NEW_DOCUMENT});
  elsif ${row('new')} is distinct from ${row('old')} then
    update lead.lead_search set created_at = new.created_at, search_text = ${NEW_DOCUMENT} where lead_id = new.id;
  end if;
  return null;
end
$$;`);
    this.addSql(
      `create trigger "leads_search_write" after insert or delete or update of ${COPIED.map((f) => `"${f}"`).join(', ')} on "lead"."leads" for each row execute function "lead"."leads_search_write"();`,
    );
    // The pending list's entries merged into the index (`UpkeepRepository.fold` calls it with
    // every fold), as the index's owner: PostgreSQL lets only the owner do it, and the service
    // may run as another role than the migrations.
    this
      .addSql(`create function "lead"."lead_search_clean"() returns bigint language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
  return gin_clean_pending_list('lead.lead_search_trgm_idx'::regclass);
end
$$;`);
    this.stamp(false);
    this.addSql(`drop statistics "lead"."leads_search_trigrams";`);
    this.addSql(`drop index "lead"."leads_search_trgm_idx";`);
    this.addSql(`alter table "lead"."leads" drop column "search_text";`);
    this.addSql(`analyze "lead"."lead_search";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "lead"."leads" add column "search_text" text null;`);
    // Filling the column is not a change of the leads: no trigger (sync order, counts) sees it.
    this.addSql(`alter table "lead"."leads" disable trigger user;`);
    this.addSql(`update "lead"."leads" l set "search_text" = s."search_text" from "lead"."lead_search" s where s."lead_id" = l."id";`);
    this.addSql(`alter table "lead"."leads" enable trigger user;`);
    this.addSql(`alter table "lead"."leads" alter column "search_text" set not null;`);
    this.addSql(`create index "leads_search_trgm_idx" on "lead"."leads" using gin ("search_text" gin_trgm_ops);`);
    this.addSql(`create statistics "lead"."leads_search_trigrams" on (show_trgm("search_text")) from "lead"."leads";`);
    this.stamp(true);
    this.addSql(`drop trigger "leads_search_write" on "lead"."leads";`);
    this.addSql(`drop function "lead"."leads_search_write"();`);
    this.addSql(`drop function "lead"."lead_search_clean"();`);
    this.addSql(`drop table "lead"."lead_search";`);
    this.addSql(`analyze "lead"."leads";`);
  }

  /** The stamping trigger's function, writing `leads.search_text` (as before) or not. */
  private stamp(withSearchText: boolean): void {
    const searchText = withSearchText
      ? `
  if tg_op = 'INSERT' or ${contact('new')} is distinct from ${contact('old')} then
    new.search_text := ${NEW_DOCUMENT};
  end if;`
      : '';
    this.addSql(`create or replace function "lead"."leads_stamp_change"() returns trigger language plpgsql as $$
begin
  new.change_xid := pg_current_xact_id()::text::bigint;
  new.email_key := lower(btrim(new.email));${searchText}
  return new;
end
$$;`);
  }
}
