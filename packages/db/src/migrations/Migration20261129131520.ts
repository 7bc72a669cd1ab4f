import { Migration } from '@mikro-orm/migrations';

export class Migration20261129131520 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create schema if not exists "lead";`);
    this.addSql(
      `create table "lead"."leads" ("id" uuid not null, "name" varchar(200) not null, "email" varchar(254) not null, "phone" varchar(32) null, "company" varchar(200) null, "message" text null, "source" text check ("source" in ('website', 'referral', 'social', 'other')) not null, "status" text check ("status" in ('new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost')) not null, "priority" text check ("priority" in ('low', 'medium', 'high')) not null, "assigned_to" uuid null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "closed_at" timestamptz null, constraint "leads_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "leads_created_at_id_idx" on "lead"."leads" ("created_at", "id");`);
    this.addSql(`create index "leads_status_created_at_id_idx" on "lead"."leads" ("status", "created_at", "id");`);
    this.addSql(`create index "leads_source_created_at_id_idx" on "lead"."leads" ("source", "created_at", "id");`);
    this.addSql(`create index "leads_assigned_to_created_at_id_idx" on "lead"."leads" ("assigned_to", "created_at", "id");`);

    this.addSql(
      `create table "lead"."lead_activities" ("id" uuid not null, "lead_id" uuid not null, "activity_type" text check ("activity_type" in ('created', 'status_changed', 'note_added', 'contacted', 'assigned')) not null, "description" text null, "details" jsonb null, "performed_by" uuid null, "created_at" timestamptz not null, constraint "lead_activities_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "lead_activities_lead_id_created_at_id_idx" on "lead"."lead_activities" ("lead_id", "created_at", "id");`);

    this.addSql(
      `alter table "lead"."lead_activities" add constraint "lead_activities_lead_id_foreign" foreign key ("lead_id") references "lead"."leads" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "lead"."lead_activities" drop constraint "lead_activities_lead_id_foreign";`);

    this.addSql(`drop table if exists "lead"."leads" cascade;`);

    this.addSql(`drop table if exists "lead"."lead_activities" cascade;`);

    this.addSql(`drop schema if exists "lead";`);
  }
}
