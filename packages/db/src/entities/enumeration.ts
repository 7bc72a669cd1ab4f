import { p } from '@mikro-orm/core';

/** Each enumeration's domain (in the `lead` schema) and its values, as the entities declare them. */
export const ENUMERATION_DOMAINS = new Map<string, readonly string[]>();

/**
 * A text column that holds one of `values`, typed by the PostgreSQL domain `lead.<domain>`,
 * which allows just those (Migration20261203100000_enum_domains; a value added later is a new
 * migration that replaces the domain's check). A domain rather than a check constraint on each
 * column: PostgreSQL parses a table's check constraints from their stored text again for every
 * statement that writes to it, a domain's once per connection (a fifth of a create's
 * PostgreSQL instructions, bench/README.md "Session 9"). MikroORM reads the column back as
 * text, so its type is left out of the schema diff; `test/migrations.test.ts` holds every
 * domain and column to these declarations instead.
 */
export function enumeration<const T extends string>(domain: string, values: readonly T[]) {
  const declared = ENUMERATION_DOMAINS.get(domain);
  if (declared && declared.join() !== values.join()) throw new Error(`lead.${domain} is declared with two different lists of values`);
  ENUMERATION_DOMAINS.set(domain, values);
  return p.text().$type<T>().columnType(`lead.${domain}`).ignoreSchemaChanges('type');
}
