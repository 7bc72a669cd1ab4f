const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `date.toJSON()`: the same text, made from its UTC fields. `JSON.stringify` calls a Date's
 * `toJSON` through V8's generic path, which made a list page's forty timestamps cost twice what
 * the rest of its JSON did (bench/README.md "Session 13"). Years outside 1000–9999 and invalid
 * dates, which `toJSON` writes differently (`+012345-…`, `null`), are left to it.
 */
export function dateJson(date: Date): string | null {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return date.toJSON();
  return `${year}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(
    date.getUTCSeconds(),
  )}.${pad3(date.getUTCMilliseconds())}Z`;
}

/** Each Date in `value` (plain objects and arrays) replaced by its JSON text, in place. */
function datesAsText(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return dateJson(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = datesAsText(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const field = record[key];
    // Own keys only, as JSON.stringify writes.
    if (field !== null && typeof field === 'object' && Object.hasOwn(record, key)) record[key] = datesAsText(field);
  }
  return record;
}

/**
 * A procedure's output as a JSON body: `JSON.stringify`'s text exactly, with its Dates written
 * by `dateJson`. The output is changed in place: it is the one the procedure returned for this
 * answer, and nothing reads it after it is sent.
 */
export const outputJson = (output: unknown): string => JSON.stringify(datesAsText(output));
