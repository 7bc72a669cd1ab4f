import { Migration } from '@mikro-orm/migrations';

/**
 * Retention (issue 15): the record of each run, and the one way rows leave the audit trail.
 *
 * `lead_audit_retention` is a role nobody logs in as and nobody is a member of. It owns
 * `lead.prune_audit_log`, a SECURITY DEFINER function, so a DELETE issued from inside it runs as
 * that role; the append-only trigger lets exactly that through (DELETE, as that role) and still
 * refuses every UPDATE and TRUNCATE, and every DELETE by anyone else: the service's own
 * connection included. The function takes an age, not a time, and refuses anything under 90 days
 * (AUDIT_RETENTION_MIN_DAYS in repositories/retention.ts), so a caller can only drop old rows.
 * Roles belong to the whole server: the role is created once and shared by every database on it.
 */
export class Migration20261202021000_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."retention_runs" ("id" uuid not null, "started_at" timestamptz not null, "finished_at" timestamptz null, "outcome" text check ("outcome" in ('running', 'completed', 'failed', 'interrupted')) not null, "rules" jsonb not null, "closed_leads" int not null default 0, "inactive_leads" int not null default 0, "event_payloads" int not null default 0, "audit_rows" int not null default 0, "error" varchar(200) null, constraint "retention_runs_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "retention_runs_started_at_idx" on "lead"."retention_runs" ("started_at");`);

    // What the rules look for, among the leads not yet erased only: erased leads keep their dates,
    // and would otherwise be read again by every batch of every run, for ever.
    this.addSql(
      `create index "leads_retention_closed_idx" on "lead"."leads" ("closed_at") where "erased_at" is null and "closed_at" is not null;`,
    );
    this.addSql(`create index "leads_retention_updated_idx" on "lead"."leads" ("updated_at") where "erased_at" is null;`);
    // Delivered and dead events that still hold personal fields, by age (a stripped one leaves it).
    this.addSql(
      `create index "outbox_events_retention_idx" on "lead"."outbox_events" ("created_at") where "state" in ('delivered', 'dead') and "payload" is distinct from "lead"."strip_personal_fields"("payload");`,
    );

    // Two databases migrating at once may both find the role missing: the loser's error is ignored.
    this.addSql(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'lead_audit_retention') then
        begin
          create role lead_audit_retention nologin noinherit;
        exception when duplicate_object or unique_violation then null;
        end;
      end if;
    end $$;`);
    this.addSql(`grant usage on schema "lead" to lead_audit_retention;`);
    this.addSql(`grant select, delete on "lead"."audit_log" to lead_audit_retention;`);

    this.addSql(`create or replace function "lead"."audit_log_is_append_only"() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_user = 'lead_audit_retention' then
          return old;
        end if;
        raise exception 'lead.audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
      end;
    $$;`);

    // Where the audit rule's age starts, for the preview's count and the function's delete alike.
    this.addSql(`create function "lead"."audit_retention_cutoff"(older_than_days integer) returns timestamptz
      language sql stable as $$ select now() - make_interval(days => older_than_days) $$;`);
    this.addSql(`create function "lead"."prune_audit_log"(older_than_days integer, max_rows integer) returns integer
      language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
      declare
        dropped integer;
      begin
        if older_than_days is null or older_than_days < 90 then
          raise exception 'audit rows are kept at least 90 days (asked: %)', older_than_days using errcode = 'insufficient_privilege';
        end if;
        delete from "lead"."audit_log" where id in (
          select id from "lead"."audit_log"
          where created_at < "lead"."audit_retention_cutoff"(older_than_days)
          order by created_at, id
          limit greatest(max_rows, 0)
        );
        get diagnostics dropped = row_count;
        return dropped;
      end;
    $$;`);
    this.addSql(`revoke all on function "lead"."prune_audit_log"(integer, integer) from public;`);
    // The migrating user calls it (and so does the service, which usually is the same user).
    this.addSql(`grant execute on function "lead"."prune_audit_log"(integer, integer) to current_user;`);
    // Changing the owner needs membership of the new owner, unless a superuser migrates: a member
    // could become the role, so the membership is taken away again at once.
    this.addSql(`do $$
      declare
        is_super boolean := (select rolsuper from pg_roles where rolname = current_user);
      begin
        if not is_super then
          execute format('grant lead_audit_retention to %I', current_user);
        end if;
        alter function "lead"."prune_audit_log"(integer, integer) owner to lead_audit_retention;
        if not is_super then
          execute format('revoke lead_audit_retention from %I', current_user);
        end if;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "lead"."prune_audit_log"(integer, integer);`);
    this.addSql(`drop function if exists "lead"."audit_retention_cutoff"(integer);`);
    this.addSql(`create or replace function "lead"."audit_log_is_append_only"() returns trigger language plpgsql as $$
      begin
        raise exception 'lead.audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
      end;
    $$;`);
    this.addSql(`revoke all on "lead"."audit_log" from lead_audit_retention;`);
    this.addSql(`revoke all on schema "lead" from lead_audit_retention;`);
    this.addSql(`drop index if exists "lead"."outbox_events_retention_idx";`);
    this.addSql(`drop index if exists "lead"."leads_retention_updated_idx";`);
    this.addSql(`drop index if exists "lead"."leads_retention_closed_idx";`);
    this.addSql(`drop table if exists "lead"."retention_runs" cascade;`);
  }
}
