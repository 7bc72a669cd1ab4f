import type { MigrationObject } from '@mikro-orm/core';
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

// Listed explicitly (no file globbing) so the same code runs from src/ and from a bundle.
// A new migration: `DATABASE_URL=… pnpm --filter @lead/db migration:create`, then add it here.
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261129131520', class: Migration20261129131520 },
  { name: 'Migration20261129132635_outbox', class: Migration20261129132635_outbox },
  { name: 'Migration20261129132704_audit_log', class: Migration20261129132704_audit_log },
  { name: 'Migration20261129132717_lead_counts', class: Migration20261129132717_lead_counts },
  { name: 'Migration20261129132744_idempotency_keys', class: Migration20261129132744_idempotency_keys },
  { name: 'Migration20261201120000_workday', class: Migration20261201120000_workday },
  { name: 'Migration20261201211759_trace_parent', class: Migration20261201211759_trace_parent },
  { name: 'Migration20261201214055_attribution', class: Migration20261201214055_attribution },
  { name: 'Migration20261202010000_privacy', class: Migration20261202010000_privacy },
  { name: 'Migration20261202013000_search_text', class: Migration20261202013000_search_text },
  { name: 'Migration20261202020000_lead_stages', class: Migration20261202020000_lead_stages },
  { name: 'Migration20261202021000_retention', class: Migration20261202021000_retention },
  { name: 'Migration20261202050000_folded_upkeep', class: Migration20261202050000_folded_upkeep },
  { name: 'Migration20261202070000_index_upkeep', class: Migration20261202070000_index_upkeep },
];
