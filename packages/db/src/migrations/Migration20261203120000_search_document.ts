import { Migration } from '@mikro-orm/migrations';
import { SEARCH_DOCUMENT as DOCUMENT, SEARCH_DOCUMENT_SIGNATURE as SIGNATURE } from './Migration20261201120000_workday.js';

/**
 * `lead.search_document` becomes PL/pgSQL (issue 18), as `lead.search_normalize` did in
 * Migration20261202070000_index_upkeep. A SQL function declared IMMUTABLE whose body calls a
 * STABLE one (`concat_ws`) is never inlined, so the trigger that keeps `search_text` ran it
 * through the SQL function executor, which parsed and planned its text again in every
 * transaction; PL/pgSQL compiles it once per connection. Same result, same immutability.
 * Counted with callgrind (bench/pg-instructions, bench/README.md "Session 9"): 6 % fewer
 * PostgreSQL instructions per create; an edit of a lead's contact fields computes it too.
 */
export class Migration20261203120000_search_document extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function ${SIGNATURE} language plpgsql immutable parallel safe as $$ begin return ${DOCUMENT}; end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`create or replace function ${SIGNATURE} language sql immutable parallel safe as $$ select ${DOCUMENT} $$;`);
  }
}
