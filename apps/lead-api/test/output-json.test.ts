import { describe, expect, it } from 'vitest';
import { dateJson, outputJson } from '../src/http/json.js';

/** The REST surface writes its answers with `outputJson`: its text must be `JSON.stringify`'s. */
describe('output JSON', () => {
  it('writes every date as its toJSON does, in and out of the years 1000-9999, and an invalid one as null', () => {
    const dates = [
      ...Array.from({ length: 20_000 }, () => new Date(Math.floor((Math.random() - 0.4) * 3e13))),
      new Date('1000-01-01T00:00:00.000Z'),
      new Date('0999-12-31T23:59:59.999Z'),
      new Date('9999-12-31T23:59:59.999Z'),
      new Date('+010000-01-01T00:00:00.000Z'),
      new Date(-1),
      new Date(0),
      new Date(Number.NaN),
    ];
    for (const date of dates) expect(dateJson(date)).toBe(date.toJSON());
  });

  it('is the text JSON.stringify writes for an answer with dates at any depth', () => {
    const answer = () => ({
      items: [
        { id: 'a', created_at: new Date('2026-12-04T01:06:05.123Z'), nested: { at: new Date(1), list: [new Date(2), 'x', 3, null] } },
        { id: 'b', created_at: new Date(Number.NaN), empty: {}, none: null, flag: false, text: 'say "hi"\n' },
      ],
      total: 2,
      next_cursor: null,
      skipped: undefined,
    });
    expect(outputJson(answer())).toBe(JSON.stringify(answer()));
    expect(outputJson([new Date(5), { at: new Date(6) }])).toBe(JSON.stringify([new Date(5), { at: new Date(6) }]));
    expect(outputJson('text')).toBe('"text"');
  });
});
