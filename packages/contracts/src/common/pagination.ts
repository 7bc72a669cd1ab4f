import { z } from 'zod';

/**
 * Page-number pagination, shared by every list. Query strings arrive as text, so the schema
 * coerces; `<number>` types the input as what a typed client sends, so `{ page: 'second' }`
 * does not compile while `?page=2` still works over REST.
 */
export const PageNumber = z.coerce.number<number>().int().min(1).max(1_000_000).default(1).meta({ description: 'Page number, from 1.' });
export const PageLimit = z.coerce.number<number>().int().min(1).max(100).default(20).meta({ description: 'Items per page, at most 100.' });
