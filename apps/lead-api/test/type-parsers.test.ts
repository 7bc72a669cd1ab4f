import { typeParsers } from '@lead/db';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { withClient } from './support/database.js';

/**
 * The service reads dates and timestamps with postgres-date 2 (`typeParsers` in
 * packages/db/src/sql.ts) instead of the postgres-date 1 that pg-types registers: every value
 * PostgreSQL writes must come out as the same Date (or the same infinity) from both.
 */
const OIDS = { date: 1082, timestamp: 1114, timestamptz: 1184 } as const;

const asNumber = (value: unknown) => (value instanceof Date ? value.getTime() : value);

describe('the date and timestamp parsers', () => {
  for (const timeZone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham']) {
    it(`read every value as pg-types does, with the session in ${timeZone}`, async () => {
      const texts = await withClient(undefined, async (c) => {
        await c.query(`set timezone = '${timeZone}'`);
        const { rows } = await c.query<{ type: keyof typeof OIDS; text: string }>(
          `select 'timestamptz' as type, v::text as text from (
             select timestamptz '1900-01-01' + random() * interval '300 years' as v from generate_series(1, 300)
             union all select now() union all select timestamptz '2024-01-15 10:30:00.123456+00'
             union all select timestamptz '2024-01-15 10:30:00.5+00' union all select timestamptz '0099-06-01 12:00:00+00'
             union all select timestamptz '0044-03-15 12:00:00+00 BC' union all select timestamptz 'infinity' union all select timestamptz '-infinity'
           ) t
           union all select 'timestamp', (v::timestamp)::text from (values (timestamp '2024-02-29 23:59:59.999999'), (timestamp '0001-01-01 00:00:00 BC'), (timestamp 'infinity')) t(v)
           union all select 'date', (v::date)::text from (values (date '2024-02-29'), (date '0099-12-31'), (date '0044-03-15 BC'), (date '-infinity')) t(v)`,
        );
        return rows;
      });
      expect(texts.length).toBe(300 + 7 + 3 + 4);
      for (const { type, text } of texts) {
        const ours = typeParsers.getTypeParser(OIDS[type])(text);
        expect({ text, value: asNumber(ours) }).toEqual({ text, value: asNumber(pg.types.getTypeParser(OIDS[type])(text)) });
        if (!text.includes('infinity')) expect(ours).toBeInstanceOf(Date);
      }
    });
  }

  it('leave every other type to pg-types', () => {
    for (const oid of [16, 20, 23, 25, 114, 1043, 1700, 2950, 3802, 1185])
      expect(typeParsers.getTypeParser(oid)).toBe(pg.types.getTypeParser(oid));
  });
});
