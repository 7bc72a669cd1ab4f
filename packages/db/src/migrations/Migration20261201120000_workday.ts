import { Migration } from '@mikro-orm/migrations';

const ACTIVITY_TYPES = `'created', 'status_changed', 'note_added', 'contacted', 'assigned', 'updated', 'duplicate_detected', 'merged'`;
const EVENT_TYPES = `'LeadCreated', 'LeadStatusChanged', 'LeadAssigned', 'LeadUpdated', 'LeadMerged'`;
const LOST_REASONS = `'price', 'timing', 'competitor', 'no_response', 'not_a_fit', 'duplicate', 'other'`;
/** `lead.search_document`: its signature, and the document it returns (its one expression). */
export const SEARCH_DOCUMENT_SIGNATURE = `"lead"."search_document"(name text, email text, company text, phone text, message text) returns text`;
export const SEARCH_DOCUMENT = `lead.search_normalize(concat_ws(E'\\n', name, email, company, regexp_replace(phone, '[^0-9]', '', 'g'), message))`;

/**
 * The sales workday (issue 16): search, sort orders, sync, lost reasons, duplicates and merge.
 *
 * Search uses the contrib extensions `unaccent` and `pg_trgm` (both trusted: a database owner
 * may create them). `unaccent()` is only STABLE (its dictionary could change), so it is wrapped
 * in an IMMUTABLE function naming the dictionary explicitly, which an index may use; the
 * trigram GIN index then serves case- and accent-insensitive substring matches (`like`).
 */
export class Migration20261201120000_workday extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists unaccent;`);
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(
      `create function "lead"."search_normalize"(text) returns text language sql immutable parallel safe strict as $$ select lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;`,
    );
    // Phone numbers are searched by their digits; fields are kept apart by a newline, which a
    // search term never contains, so a match never spans two fields.
    this.addSql(`create function ${SEARCH_DOCUMENT_SIGNATURE} language sql immutable parallel safe as $$ select ${SEARCH_DOCUMENT} $$;`);
    this.addSql(
      `create function "lead"."status_rank"(text) returns int language sql immutable parallel safe strict as $$ select array_position(array['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'], $1) $$;`,
    );
    this.addSql(
      `create function "lead"."priority_rank"(text) returns int language sql immutable parallel safe strict as $$ select array_position(array['low', 'medium', 'high'], $1) $$;`,
    );

    this.addSql(`alter table "lead"."leads" add column "lost_reason" text check ("lost_reason" in (${LOST_REASONS})) null;`);
    this.addSql(`alter table "lead"."leads" add column "email_key" varchar(254) null;`);
    this.addSql(`update "lead"."leads" set "email_key" = lower(btrim("email"));`);
    this.addSql(`alter table "lead"."leads" alter column "email_key" set not null;`);
    this.addSql(`alter table "lead"."leads" add column "duplicate_of" uuid null, add column "merged_into" uuid null;`);
    this.addSql(`alter table "lead"."leads" add column "change_xid" bigint not null default 0;`);

    // Every write of a lead records its transaction: sync reads in that order, only below the
    // oldest transaction still running (see LeadRepository.listPage). The duplicate key is
    // derived here too, so that no writer (seeds, scripts) can leave it out of step.
    this.addSql(`create function "lead"."leads_stamp_change"() returns trigger language plpgsql as $$
begin
  new.change_xid := pg_current_xact_id()::text::bigint;
  new.email_key := lower(btrim(new.email));
  return new;
end
$$;`);
    this.addSql(
      `create trigger "leads_stamp_change" before insert or update on "lead"."leads" for each row execute function "lead"."leads_stamp_change"();`,
    );

    this.addSql(`create index "leads_updated_at_id_idx" on "lead"."leads" ("updated_at", "id");`);
    this.addSql(`create index "leads_change_xid_id_idx" on "lead"."leads" ("change_xid", "id");`);
    this.addSql(`create index "leads_email_key_created_at_idx" on "lead"."leads" ("email_key", "created_at");`);
    this.addSql(`create index "leads_duplicate_of_idx" on "lead"."leads" ("duplicate_of");`);
    this.addSql(`create index "leads_name_key_id_idx" on "lead"."leads" (lead.search_normalize(name), id);`);
    this.addSql(`create index "leads_status_rank_id_idx" on "lead"."leads" (lead.status_rank(status), id);`);
    this.addSql(`create index "leads_priority_rank_id_idx" on "lead"."leads" (lead.priority_rank(priority), id);`);
    this.addSql(
      `create index "leads_search_trgm_idx" on "lead"."leads" using gin (lead.search_document(name, email, company, phone, message) gin_trgm_ops);`,
    );

    this.addSql(`alter table "lead"."lead_activities" drop constraint "lead_activities_activity_type_check";`);
    this.addSql(
      `alter table "lead"."lead_activities" add constraint "lead_activities_activity_type_check" check ("activity_type" in (${ACTIVITY_TYPES}));`,
    );
    this.addSql(`alter table "lead"."outbox_events" drop constraint "outbox_events_event_type_check";`);
    this.addSql(
      `alter table "lead"."outbox_events" add constraint "outbox_events_event_type_check" check ("event_type" in (${EVENT_TYPES}));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "lead"."outbox_events" drop constraint "outbox_events_event_type_check";`);
    this.addSql(
      `alter table "lead"."outbox_events" add constraint "outbox_events_event_type_check" check ("event_type" in ('LeadCreated', 'LeadStatusChanged', 'LeadAssigned'));`,
    );
    this.addSql(`alter table "lead"."lead_activities" drop constraint "lead_activities_activity_type_check";`);
    this.addSql(
      `alter table "lead"."lead_activities" add constraint "lead_activities_activity_type_check" check ("activity_type" in ('created', 'status_changed', 'note_added', 'contacted', 'assigned'));`,
    );
    this.addSql(`drop trigger if exists "leads_stamp_change" on "lead"."leads";`);
    this.addSql(`drop function if exists "lead"."leads_stamp_change"();`);
    this.addSql(
      `alter table "lead"."leads" drop column "lost_reason", drop column "email_key", drop column "duplicate_of", drop column "merged_into", drop column "change_xid";`,
    );
    this.addSql(`drop function if exists "lead"."search_document"(text, text, text, text, text);`);
    this.addSql(`drop function if exists "lead"."search_normalize"(text);`);
    this.addSql(`drop function if exists "lead"."status_rank"(text);`);
    this.addSql(`drop function if exists "lead"."priority_rank"(text);`);
  }
}
