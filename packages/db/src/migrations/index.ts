import type { Constructor, MigrationObject } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { Migration20261129131520 } from './Migration20261129131520.js';
import { Migration20261129132635_outbox } from './Migration20261129132635_outbox.js';
import { Migration20261129132704_audit_log } from './Migration20261129132704_audit_log.js';
import { Migration20261129132717_lead_counts } from './Migration20261129132717_lead_counts.js';
import { Migration20261129132744_idempotency_keys } from './Migration20261129132744_idempotency_keys.js';
import { Migration20261201120000_workday } from './Migration20261201120000_workday.js';
import { Migration20261201211759_trace_parent } from './Migration20261201211759_trace_parent.js';
import { Migration20261201214055_attribution } from './Migration20261201214055_attribution.js';
import { Migration20261202010000_privacy } from './Migration20261202010000_privacy.js';
import { Migration20261202013000_search_text } from './Migration20261202013000_search_text.js';
import { Migration20261202020000_lead_stages } from './Migration20261202020000_lead_stages.js';
import { Migration20261202021000_retention } from './Migration20261202021000_retention.js';
import { Migration20261202050000_folded_upkeep } from './Migration20261202050000_folded_upkeep.js';
import { Migration20261202070000_index_upkeep } from './Migration20261202070000_index_upkeep.js';
import { Migration20261202220000_inline_ranks } from './Migration20261202220000_inline_ranks.js';
import { Migration20261203100000_enum_domains } from './Migration20261203100000_enum_domains.js';
import { Migration20261203110000_trigger_guards } from './Migration20261203110000_trigger_guards.js';
import { Migration20261203120000_search_document } from './Migration20261203120000_search_document.js';
import { Migration20261203150000_lock_nowait } from './Migration20261203150000_lock_nowait.js';
import { Migration20261203190000_search_table } from './Migration20261203190000_search_table.js';
import { Migration20261204200000_stage_change_once } from './Migration20261204200000_stage_change_once.js';
import { Migration20261204210000_fold_changes_inline } from './Migration20261204210000_fold_changes_inline.js';
import { migrationNames, type MigrationName } from './names.js';

// Listed explicitly (no file globbing) so the same code runs from src/ and from a bundle.
// A new migration: `DATABASE_URL=… pnpm --filter @lead/db migration:create`, then add its name to
// names.ts and its class here (the type asks for a class for every name, and no other).
const classes: Record<MigrationName, Constructor<Migration>> = {
  Migration20261129131520,
  Migration20261129132635_outbox,
  Migration20261129132704_audit_log,
  Migration20261129132717_lead_counts,
  Migration20261129132744_idempotency_keys,
  Migration20261201120000_workday,
  Migration20261201211759_trace_parent,
  Migration20261201214055_attribution,
  Migration20261202010000_privacy,
  Migration20261202013000_search_text,
  Migration20261202020000_lead_stages,
  Migration20261202021000_retention,
  Migration20261202050000_folded_upkeep,
  Migration20261202070000_index_upkeep,
  Migration20261202220000_inline_ranks,
  Migration20261203100000_enum_domains,
  Migration20261203110000_trigger_guards,
  Migration20261203120000_search_document,
  Migration20261203150000_lock_nowait,
  Migration20261203190000_search_table,
  Migration20261204200000_stage_change_once,
  Migration20261204210000_fold_changes_inline,
};

export const migrationsList: MigrationObject[] = migrationNames.map((name) => ({ name, class: classes[name] }));
