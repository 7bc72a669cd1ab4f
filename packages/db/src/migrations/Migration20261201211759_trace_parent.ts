import { Migration } from '@mikro-orm/migrations';

export class Migration20261201211759_trace_parent extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "lead"."outbox_events" add column "trace_parent" varchar(55) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "lead"."outbox_events" drop column "trace_parent";`);
  }
}
