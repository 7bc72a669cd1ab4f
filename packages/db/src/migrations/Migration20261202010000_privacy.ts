import { Migration } from '@mikro-orm/migrations';

const EVENT_TYPES = `'LeadCreated', 'LeadStatusChanged', 'LeadAssigned', 'LeadUpdated', 'LeadMerged', 'LeadErased'`;

/**
 * The fields of an event body that say nothing about the person: ids, types, times, statuses,
 * sources, campaign parameters and field names. Everything else (today `email` of
 * `LeadCreated`) is personal until proven otherwise, so that a field added to an event later is
 * stripped unless it is added here too (a new migration replacing the function).
 */
export const KEPT_EVENT_FIELDS = [
  'event_id',
  'event_type',
  'lead_id',
  'timestamp',
  'source',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'old_status',
  'new_status',
  'lost_reason',
  'old_assigned_to',
  'new_assigned_to',
  'changed_fields',
  'merged_into',
  'filled_fields',
]
  .map((field) => `'${field}'`)
  .join(', ');

/**
 * Personal data over its whole life (issue 15): consent records, erasure (anonymisation) and
 * its proof.
 *
 * - `lead_consents`: what a visitor agreed to, when, and on which page (cleaned like attribution URLs).
 * - `leads.erased_at`: set when a lead was anonymised.
 * - `erasures`: one row per erased lead, holding a keyed hash (HMAC-SHA256) of the address and
 *   never the address itself, so that "was this address erased?" can be answered.
 * - `audit_log.reason`: why a change was made (an erasure's reason), free of personal data.
 * - `strip_personal_fields(payload)`: an event body with every personal field set to null
 *   (keys kept, so that receivers see the shape they know).
 */
export class Migration20261202010000_privacy extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."lead_consents" ("id" uuid not null, "lead_id" uuid not null, "policy_version" varchar(100) null, "marketing" boolean not null, "text" varchar(2000) null, "page" varchar(2048) null, "given_at" timestamptz not null, constraint "lead_consents_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "lead_consents_lead_id_given_at_idx" on "lead"."lead_consents" ("lead_id", "given_at");`);
    this.addSql(
      `alter table "lead"."lead_consents" add constraint "lead_consents_lead_id_foreign" foreign key ("lead_id") references "lead"."leads" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `create table "lead"."erasures" ("id" uuid not null, "lead_id" uuid not null, "email_hash" varchar(64) not null, "actor_sub" uuid null, "actor_role" varchar(64) null, "reason" varchar(500) null, "erased_at" timestamptz not null, constraint "erasures_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "erasures_email_hash_idx" on "lead"."erasures" ("email_hash");`);
    this.addSql(`create index "erasures_lead_id_idx" on "lead"."erasures" ("lead_id");`);

    // An erasure removes a lead's keys by lead: without this, one scan of every key per lead.
    this.addSql(`create index "idempotency_keys_lead_id_idx" on "lead"."idempotency_keys" ("lead_id");`);
    this.addSql(`alter table "lead"."leads" add column "erased_at" timestamptz null;`);
    this.addSql(`alter table "lead"."audit_log" add column "reason" varchar(500) null;`);

    this.addSql(`alter table "lead"."outbox_events" drop constraint "outbox_events_event_type_check";`);
    this.addSql(
      `alter table "lead"."outbox_events" add constraint "outbox_events_event_type_check" check ("event_type" in (${EVENT_TYPES}));`,
    );

    this
      .addSql(`create function "lead"."strip_personal_fields"(payload jsonb) returns jsonb language sql immutable parallel safe strict as $$
  select coalesce(jsonb_object_agg(key, case when key in (${KEPT_EVENT_FIELDS}) then value else 'null'::jsonb end), '{}'::jsonb)
    from jsonb_each(payload)
$$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "lead"."strip_personal_fields"(jsonb);`);
    this.addSql(`alter table "lead"."outbox_events" drop constraint "outbox_events_event_type_check";`);
    this.addSql(
      `alter table "lead"."outbox_events" add constraint "outbox_events_event_type_check" check ("event_type" in ('LeadCreated', 'LeadStatusChanged', 'LeadAssigned', 'LeadUpdated', 'LeadMerged'));`,
    );
    this.addSql(`alter table "lead"."audit_log" drop column "reason";`);
    this.addSql(`alter table "lead"."leads" drop column "erased_at";`);
    this.addSql(`drop index if exists "lead"."idempotency_keys_lead_id_idx";`);
    this.addSql(`drop table if exists "lead"."erasures" cascade;`);
    this.addSql(`drop table if exists "lead"."lead_consents" cascade;`);
  }
}
