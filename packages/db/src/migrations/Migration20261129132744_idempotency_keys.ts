import { Migration } from '@mikro-orm/migrations';

export class Migration20261129132744_idempotency_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."idempotency_keys" ("key" varchar(255) not null, "request_hash" varchar(64) not null, "lead_id" uuid null, "created_at" timestamptz not null, constraint "idempotency_keys_pkey" primary key ("key"));`,
    );
    this.addSql(`create index "idempotency_keys_created_at_idx" on "lead"."idempotency_keys" ("created_at");`);

    this.addSql(
      `alter table "lead"."idempotency_keys" add constraint "idempotency_keys_lead_id_foreign" foreign key ("lead_id") references "lead"."leads" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "lead"."idempotency_keys" cascade;`);
  }
}
