import { z } from 'zod';

// PostgreSQL text cannot hold NUL; refusing it here turns a would-be 500 into a field-level 400.
// eslint-disable-next-line no-control-regex -- NUL is exactly the character refused
const NO_NUL = /^[^\u0000]*$/;

/** Required free text: trimmed, non-empty, at most `max` characters. */
export const requiredText = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max).regex(NO_NUL, 'must not contain NUL characters');

/** Optional free text: trimmed, at most `max` characters; empty, null or absent is stored as null. */
export const optionalText = (max: number) => z.string().trim().max(max).regex(NO_NUL, 'must not contain NUL characters').nullish();

export const TEXT_LIMITS = {
  name: 200,
  email: 254,
  phone: 32,
  company: 200,
  message: 5000,
  notes: 5000,
  description: 5000,
} as const;

/**
 * A JSON boolean and nothing else. trpc-to-openapi coerces every `z.boolean()` of an input, in
 * request bodies too, so `"false"` would arrive as `true`: as a literal it is refused instead.
 */
export const strictBoolean = () => z.literal([true, false]);
