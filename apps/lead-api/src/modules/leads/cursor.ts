import type { Keyset, LeadSort } from '@lead/db';

/** What a cursor holds: the order it was issued for and the position of the last lead seen. */
export interface LeadCursor {
  sort: LeadSort;
  order: 'asc' | 'desc';
  position: Keyset;
}

const SORTS: readonly LeadSort[] = ['created_at', 'updated_at', 'priority', 'status', 'name', 'change'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Cursors are opaque to clients: base64url of the order and position. Nothing in them is
 * secret (the sort key of a lead the caller was already shown), and a forged one only moves the
 * caller within the leads their scope allows, so they are not signed.
 */
export const encodeCursor = (cursor: LeadCursor): string =>
  Buffer.from(JSON.stringify([cursor.sort, cursor.order, cursor.position.key, cursor.position.id])).toString('base64url');

/** The cursor, or null when the text is not one this service issued. */
export function decodeCursor(text: string): LeadCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4) return null;
    const [sort, order, key, id] = value as unknown[];
    if (!SORTS.includes(sort as LeadSort) || (order !== 'asc' && order !== 'desc')) return null;
    if (typeof key !== 'string' || key.length > 1000 || typeof id !== 'string' || !UUID.test(id)) return null;
    if (!validKey(sort as LeadSort, key)) return null;
    return { sort: sort as LeadSort, order, position: { key, id } };
  } catch {
    return null;
  }
}

/** A key the database can compare as its sort's type: a bad one must be a 400, not a cast error. */
function validKey(sort: LeadSort, key: string): boolean {
  switch (sort) {
    case 'created_at':
    case 'updated_at':
      // As PostgreSQL prints a timestamptz: 2024-01-15 10:30:00.123456+00
      return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.test(key);
    case 'priority':
    case 'status':
      return /^\d{1,2}$/.test(key);
    case 'change':
      return /^-?\d{1,19}$/.test(key);
    case 'name':
      return true;
  }
}
