import { Migration } from '@mikro-orm/migrations';

const FIELDS = 'name, email, company, phone, message';

/**
 * Search at a million leads (issue 16). Two costs made a search for `Company 1234` take 20-40 ms
 * per statement (measured with EXPLAIN ANALYZE; see bench/README.md):
 *
 * 1. A `like` pattern's trigrams are all looked up in the GIN index, and GIN reads every posting
 *    list in full when the candidates are spread over the table: `com`, `omp`, … are in every
 *    lead (`Company …`), so a search read ~1,900 index pages. `lead.search_key` picks, from the
 *    normalised term, its longest run of letters and digits whose trigrams are not common (the
 *    caller passes the common ones, read from the statistics below); the index is searched for
 *    that run alone, and every candidate is then checked against the whole term.
 * 2. Checking a candidate evaluated `lead.search_document` (unaccent, regexp) again, ~15 µs a
 *    row: the document is now stored, in `search_text`, written by the stamping trigger when one
 *    of its fields changes.
 *
 * The statistics object gives ANALYZE's most common trigrams with their frequencies
 * (`pg_stats_ext_exprs.most_common_elems`); without statistics the whole term is searched, as before.
 */
export class Migration20261202013000_search_text extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "lead"."leads" add column "search_text" text null;`);
    this.addSql(`create or replace function "lead"."leads_stamp_change"() returns trigger language plpgsql as $$
begin
  new.change_xid := pg_current_xact_id()::text::bigint;
  new.email_key := lower(btrim(new.email));
  if tg_op = 'INSERT' or (new.name, new.email, new.company, new.phone, new.message) is distinct from (old.name, old.email, old.company, old.phone, old.message) then
    new.search_text := lead.search_document(new.name, new.email, new.company, new.phone, new.message);
  end if;
  return new;
end
$$;`);
    // Filling the column is not a change of the leads: no trigger (sync order, counts) sees it.
    this.addSql(`alter table "lead"."leads" disable trigger user;`);
    this.addSql(`update "lead"."leads" set "search_text" = lead.search_document(${FIELDS});`);
    this.addSql(`alter table "lead"."leads" enable trigger user;`);
    this.addSql(`alter table "lead"."leads" alter column "search_text" set not null;`);
    this.addSql(`drop index "lead"."leads_search_trgm_idx";`);
    this.addSql(`create index "leads_search_trgm_idx" on "lead"."leads" using gin ("search_text" gin_trgm_ops);`);
    this.addSql(`create statistics "lead"."leads_search_trigrams" on (show_trgm("search_text")) from "lead"."leads";`);
    // The longest run of [a-z0-9] in `term` (normalised) none of whose trigrams is in `common`,
    // escaped for `like`; the whole term when there is none or no statistics. Any substring of
    // the term is implied by the term, so the choice only decides how many candidates the index
    // returns, never which leads match.
    this.addSql(`create function "lead"."search_key"(term text, common text[]) returns text language plpgsql immutable parallel safe as $$
declare
  best_from int := 0;
  best_length int := 0;
  run_from int := 0;
  i int;
  trigram text;
begin
  if common is not null and cardinality(common) > 0 then
    for i in 1 .. coalesce(length(term), 0) - 2 loop
      trigram := substr(term, i, 3);
      if trigram ~ '^[a-z0-9]{3}$' and not trigram = any(common) then
        if run_from = 0 then run_from := i; end if;
        if i + 3 - run_from > best_length then
          best_from := run_from;
          best_length := i + 3 - run_from;
        end if;
      else
        run_from := 0;
      end if;
    end loop;
  end if;
  if best_length > 0 then return substr(term, best_from, best_length); end if;
  return replace(replace(replace(term, '\\', '\\\\'), '%', '\\%'), '_', '\\_');
end
$$;`);
    this.addSql(`analyze "lead"."leads";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "lead"."search_key"(text, text[]);`);
    this.addSql(`drop statistics if exists "lead"."leads_search_trigrams";`);
    this.addSql(`drop index "lead"."leads_search_trgm_idx";`);
    this.addSql(`create index "leads_search_trgm_idx" on "lead"."leads" using gin (lead.search_document(${FIELDS}) gin_trgm_ops);`);
    this.addSql(`create or replace function "lead"."leads_stamp_change"() returns trigger language plpgsql as $$
begin
  new.change_xid := pg_current_xact_id()::text::bigint;
  new.email_key := lower(btrim(new.email));
  return new;
end
$$;`);
    this.addSql(`alter table "lead"."leads" drop column "search_text";`);
  }
}
