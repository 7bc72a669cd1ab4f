// The names the migrations table records, in order: enough to tell what is pending without
// loading the migrations (nor `@mikro-orm/migrations`, which only a migration run needs).
// A new migration: its name here, and its class in index.ts.
export const migrationNames = [
  'Migration20261129131520',
  'Migration20261129132635_outbox',
  'Migration20261129132704_audit_log',
  'Migration20261129132717_lead_counts',
  'Migration20261129132744_idempotency_keys',
  'Migration20261201120000_workday',
  'Migration20261201211759_trace_parent',
  'Migration20261201214055_attribution',
  'Migration20261202010000_privacy',
  'Migration20261202013000_search_text',
  'Migration20261202020000_lead_stages',
  'Migration20261202021000_retention',
  'Migration20261202050000_folded_upkeep',
  'Migration20261202070000_index_upkeep',
  'Migration20261202220000_inline_ranks',
  'Migration20261203100000_enum_domains',
  'Migration20261203110000_trigger_guards',
  'Migration20261203120000_search_document',
  'Migration20261203150000_lock_nowait',
  'Migration20261203190000_search_table',
  'Migration20261204200000_stage_change_once',
  'Migration20261204210000_fold_changes_inline',
] as const;

export type MigrationName = (typeof migrationNames)[number];
