import { Migration } from '@mikro-orm/migrations';

export class Migration20261129132704_audit_log extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."audit_log" ("id" uuid not null, "actor_sub" uuid null, "actor_role" varchar(64) null, "action" varchar(64) not null, "lead_ids" uuid[] not null, "request_id" varchar(128) not null, "client_ip" varchar(64) not null, "user_agent" varchar(512) null, "created_at" timestamptz not null, constraint "audit_log_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "audit_log_created_at_id_idx" on "lead"."audit_log" ("created_at", "id");`);
    this.addSql(`create index "audit_log_actor_sub_created_at_id_idx" on "lead"."audit_log" ("actor_sub", "created_at", "id");`);
    this.addSql(`create index "audit_log_lead_ids_idx" on "lead"."audit_log" using gin ("lead_ids");`);

    // Append-only, enforced by the database itself rather than by the service's good behaviour:
    // any UPDATE, DELETE or TRUNCATE of the trail fails, whoever issues it.
    this.addSql(`create function "lead"."audit_log_is_append_only"() returns trigger language plpgsql as $$
      begin
        raise exception 'lead.audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
      end;
    $$;`);
    this.addSql(
      `create trigger "audit_log_no_update_or_delete" before update or delete on "lead"."audit_log" for each row execute function "lead"."audit_log_is_append_only"();`,
    );
    this.addSql(
      `create trigger "audit_log_no_truncate" before truncate on "lead"."audit_log" for each statement execute function "lead"."audit_log_is_append_only"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "lead"."audit_log" cascade;`);
    this.addSql(`drop function if exists "lead"."audit_log_is_append_only"();`);
  }
}
