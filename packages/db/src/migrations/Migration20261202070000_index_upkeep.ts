import { Migration } from '@mikro-orm/migrations';
import { KEPT_EVENT_FIELDS } from './Migration20261202010000_privacy.js';

/** The list's filters whose column is null in most leads (a create has no assignee, 40 % have no utm). */
const MOSTLY_NULL = [
  ['leads_assigned_to_created_at_id_idx', 'assigned_to'],
  ['leads_utm_source_created_at_id_idx', 'utm_source'],
  ['leads_utm_medium_created_at_id_idx', 'utm_medium'],
  ['leads_utm_campaign_created_at_id_idx', 'utm_campaign'],
] as const;

const NORMALIZE = `lower(public.unaccent('public.unaccent'::regdictionary, $1))`;
const STRIP = `select coalesce(jsonb_object_agg(key, case when key in (${KEPT_EVENT_FIELDS}) then value else 'null'::jsonb end), '{}'::jsonb)
    from jsonb_each(payload)`;

/**
 * Less index upkeep per write of a lead or an event (issue 18). A status change writes an entry
 * into every index of `lead.leads` (status, updated_at and change_xid are indexed, so no update is
 * HOT), and every write prepares the indexes' expressions and predicates again, per statement:
 *
 * 1. A SQL function that PostgreSQL cannot inline is parsed again each time an expression calling it
 *    is prepared, and once more when it runs. `lead.search_normalize` (unaccent is STABLE, so it is
 *    never inlined) is in the name index's expression: every insert and update of a lead parsed it
 *    twice. `lead.strip_personal_fields` (a SELECT with FROM) is in the predicate of
 *    `outbox_events_retention_idx`: every event written parsed it. As PL/pgSQL they are compiled
 *    once per connection. Same results, same immutability, so the indexes stay as they are.
 * 2. The list filters by assignee and utm only with `= value`, which implies `is not null`: their
 *    indexes need no entry for a lead without one (every new lead, and 40 % have no utm).
 *
 * Kept after measuring: `leads_duplicate_of_idx` whole (the `duplicates=exclude` count reads its
 * nulls: 790 pages against a 50,000-page scan at a million leads), and
 * `leads_retention_updated_idx` beside `leads_updated_at_id_idx` (without its predicate every
 * retention batch reads all the erased leads again).
 */
export class Migration20261202070000_index_upkeep extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create or replace function "lead"."search_normalize"(text) returns text language plpgsql immutable parallel safe strict as $$ begin return ${NORMALIZE}; end $$;`,
    );
    this.addSql(
      `create or replace function "lead"."strip_personal_fields"(payload jsonb) returns jsonb language plpgsql immutable parallel safe strict as $$ begin return (
  ${STRIP}); end $$;`,
    );
    for (const [index, column] of MOSTLY_NULL) {
      this.addSql(`drop index "lead"."${index}";`);
      this.addSql(`create index "${index}" on "lead"."leads" ("${column}", "created_at", "id") where "${column}" is not null;`);
    }
  }

  override async down(): Promise<void> {
    for (const [index, column] of MOSTLY_NULL) {
      this.addSql(`drop index "lead"."${index}";`);
      this.addSql(`create index "${index}" on "lead"."leads" ("${column}", "created_at", "id");`);
    }
    this.addSql(
      `create or replace function "lead"."strip_personal_fields"(payload jsonb) returns jsonb language sql immutable parallel safe strict as $$
  ${STRIP}
$$;`,
    );
    this.addSql(
      `create or replace function "lead"."search_normalize"(text) returns text language sql immutable parallel safe strict as $$ select ${NORMALIZE} $$;`,
    );
  }
}
