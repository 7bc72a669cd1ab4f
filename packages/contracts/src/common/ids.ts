import { z } from 'zod';

export const Uuid = z.uuid().meta({ example: '550e8400-e29b-41d4-a716-446655440000' });
export type Uuid = z.infer<typeof Uuid>;

/**
 * Timestamps are `Date`s over tRPC (superjson) and ISO-8601 UTC strings over REST; the override
 * documents the REST form, which zod-openapi would otherwise give as a bare string.
 */
export const Timestamp = z.date().meta({ override: { type: 'string', format: 'date-time' }, example: '2024-01-15T10:30:00Z' });

/**
 * A point in time given as input: ISO 8601 with an offset. Year 0000 is valid ISO 8601 but no
 * PostgreSQL timestamp, so the time (in UTC) must be in year 1 or later: refused with a 400,
 * never a 500.
 */
export const Instant = z.iso
  // `abort`: a value that is no time at all gets that one issue, not the year's as well.
  .datetime({ offset: true, abort: true })
  .refine((value) => new Date(value).getUTCFullYear() >= 1, { error: 'must be a time in year 0001 or later (UTC)' })
  .meta({ example: '2024-01-15T10:30:00Z' });
