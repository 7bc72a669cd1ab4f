import * as contracts from '@lead/contracts';
import * as db from '@lead/db';
import { describe, expect, it } from 'vitest';

// The contracts validate input, and the database's domains allow the entities' own lists
// (test/migrations.test.ts holds them to it; packages/db never imports contracts). If the two
// drifted, input the contract accepts would fail a domain's check: a 500 instead of a 400.
describe('enumerations', () => {
  it.each([
    ['lead statuses', contracts.LEAD_STATUSES, db.LEAD_STATUSES],
    ['lead sources', contracts.LEAD_SOURCES, db.LEAD_SOURCES],
    ['lead priorities', contracts.LEAD_PRIORITIES, db.LEAD_PRIORITIES],
    ['activity types', contracts.ACTIVITY_TYPES, db.ACTIVITY_TYPES],
    ['lost reasons', contracts.LOST_REASONS, db.LOST_REASONS],
    ['event types', contracts.EVENT_TYPES, db.EVENT_TYPES],
    ['the tables an erasure counts', Object.keys(contracts.ErasureCounts.shape), db.ERASURE_TABLES],
  ])('the contracts and the database agree on %s', (_what, inContracts, inDatabase) => {
    expect([...inContracts]).toEqual([...inDatabase]);
  });

  it('gives each domain one list of values: a second, different declaration fails when the entities load', () => {
    expect(db.ENUMERATION_DOMAINS.get('lead_status')).toEqual(db.LEAD_STATUSES);
    expect(() => db.enumeration('lead_status', [...db.LEAD_STATUSES, 'archived'])).toThrow(
      /lead\.lead_status is declared with two different lists/,
    );
    expect(db.ENUMERATION_DOMAINS.get('lead_status')).toEqual(db.LEAD_STATUSES);
  });
});
