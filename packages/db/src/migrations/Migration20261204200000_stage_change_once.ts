import { Migration } from '@mikro-orm/migrations';
import { APPEND_STAGE_CHANGE, stagesFold, stagesOnActivity } from './Migration20261202050000_folded_upkeep.js';
import { guardedTrigger, STAGED } from './Migration20261203110000_trigger_guards.js';

/** The lead whose stage change this transaction appended last (transaction-local: `set_config(…, true)`). */
const APPENDED = `'lead.stage_change_of'`;

/**
 * A status change appends its lead to `lead.lead_stage_changes` once, not twice (issue 18). The
 * lead's update and its `status_changed` activity each fire a deferred trigger, and each appended
 * the lead; the fold reads a lead once however often it is appended, so the second row was only
 * cost. The lead's trigger now also notes, for the rest of its transaction, the lead whose update it appended;
 * the activity's insert trigger, firing after it at commit (the update queued its event first),
 * appends nothing for that lead: the row already appended commits with the activity, and the fold
 * that reads it recomputes the lead from its whole timeline, the activity included. Any other
 * activity (of another lead, inserted before the lead's change, updated or deleted) still appends
 * its lead. A fold clears the note first: a fold inside the transaction (after `set constraints
 * all immediate`) would fold the appended row before a later activity of the same lead.
 */
export class Migration20261204200000_stage_change_once extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      guardedTrigger(
        'lead_stages_on_lead',
        STAGED,
        // An assignment: PL/pgSQL evaluates it as an expression, where a perform runs a query (a create 1.2 % dearer).
        `${APPEND_STAGE_CHANGE}
  if tg_op = 'UPDATE' then
    noted := set_config(${APPENDED}, new.id::text, true);
  end if;`,
        'noted text;',
      ),
    );
    this.addSql(
      stagesOnActivity(`  if tg_op = 'INSERT' and current_setting(${APPENDED}, true) = new.lead_id::text then
    return null;
  end if;
`),
    );
    this.addSql(stagesFold(`  perform set_config(${APPENDED}, '', true);\n`));
  }

  override async down(): Promise<void> {
    this.addSql(guardedTrigger('lead_stages_on_lead', STAGED, APPEND_STAGE_CHANGE));
    this.addSql(stagesOnActivity(''));
    this.addSql(stagesFold(''));
  }
}
