import { Migration } from '@mikro-orm/migrations';

export class Migration20261129132635_outbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."outbox_events" ("event_id" uuid not null, "seq" bigserial, "event_type" text check ("event_type" in ('LeadCreated', 'LeadStatusChanged', 'LeadAssigned')) not null, "lead_id" uuid not null, "payload" jsonb not null, "state" text check ("state" in ('pending', 'delivered', 'dead')) not null, "attempts" int not null, "next_attempt_at" timestamptz not null, "locked_until" timestamptz null, "first_attempt_at" timestamptz null, "last_error" varchar(200) null, "created_at" timestamptz not null, "delivered_at" timestamptz null, constraint "outbox_events_pkey" primary key ("event_id"));`,
    );
    this.addSql(`create index "outbox_events_state_next_attempt_at_idx" on "lead"."outbox_events" ("state", "next_attempt_at");`);
    this.addSql(`create index "outbox_events_lead_id_seq_idx" on "lead"."outbox_events" ("lead_id", "seq");`);
    this.addSql(`create index "outbox_events_state_seq_idx" on "lead"."outbox_events" ("state", "seq");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "lead"."outbox_events" cascade;`);
  }
}
