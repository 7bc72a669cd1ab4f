import { Migration } from '@mikro-orm/migrations';

export class Migration20261201214055_attribution extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."lead_attributions" ("lead_id" uuid not null, "utm_source" varchar(200) null, "utm_medium" varchar(200) null, "utm_campaign" varchar(200) null, "utm_term" varchar(200) null, "utm_content" varchar(200) null, "referrer" varchar(2048) null, "landing_page" varchar(2048) null, "page" varchar(2048) null, "first_touch" jsonb null, constraint "lead_attributions_pkey" primary key ("lead_id"));`,
    );

    this.addSql(
      `alter table "lead"."lead_attributions" add constraint "lead_attributions_lead_id_foreign" foreign key ("lead_id") references "lead"."leads" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "lead"."leads" add column "utm_source" varchar(200) null, add column "utm_medium" varchar(200) null, add column "utm_campaign" varchar(200) null;`,
    );
    this.addSql(`create index "leads_utm_source_created_at_id_idx" on "lead"."leads" ("utm_source", "created_at", "id");`);
    this.addSql(`create index "leads_utm_medium_created_at_id_idx" on "lead"."leads" ("utm_medium", "created_at", "id");`);
    this.addSql(`create index "leads_utm_campaign_created_at_id_idx" on "lead"."leads" ("utm_campaign", "created_at", "id");`);

    this.addSql(
      `create index "lead_activities_status_changed_created_at_idx" on "lead"."lead_activities" ("created_at", "lead_id") where "activity_type" = 'status_changed';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "lead"."lead_attributions" cascade;`);

    this.addSql(`drop index "lead"."lead_activities_status_changed_created_at_idx";`);

    this.addSql(`drop index "lead"."leads_utm_source_created_at_id_idx";`);
    this.addSql(`drop index "lead"."leads_utm_medium_created_at_id_idx";`);
    this.addSql(`drop index "lead"."leads_utm_campaign_created_at_id_idx";`);
    this.addSql(`alter table "lead"."leads" drop column "utm_source", drop column "utm_medium", drop column "utm_campaign";`);
  }
}
