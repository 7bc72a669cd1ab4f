import { leadContracts } from '@lead/contracts';
import { LeadRepository, type LeadSort } from '@lead/db';
import { invalidInput as badInput } from '../../procedures/errors.js';
import { implementProtected } from '../../trpc.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { toSummary } from './serialize.js';

export const list = implementProtected(leadContracts.list, async ({ ctx, input }) => {
  const cursor = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
  if (cursor === null) throw badInput('cursor', 'is not a cursor this service issued');
  const sync = input.updated_since !== undefined || cursor?.sort === 'change';
  if (sync && input.sort !== undefined) throw badInput('sort', 'cannot be combined with updated_since or a sync cursor');
  if (sync && input.order === 'desc') throw badInput('order', 'a sync is always in ascending order of change');
  const sort: LeadSort = sync ? 'change' : (input.sort ?? 'created_at');
  const order = sync ? 'asc' : (input.order ?? 'desc');
  if (cursor && (cursor.sort !== sort || cursor.order !== order)) {
    throw badInput('cursor', `was issued for sort=${cursor.sort} order=${cursor.order}; pass the same sort and order`);
  }

  const { items, total, next } = await new LeadRepository(ctx.db).listPage(
    {
      status: input.status,
      source: input.source,
      assignedTo: input.assigned_to,
      utmSource: input.utm_source,
      utmMedium: input.utm_medium,
      utmCampaign: input.utm_campaign,
      lostReason: input.lost_reason,
      duplicates: input.duplicates,
      q: input.q,
      updatedSince: input.updated_since === undefined ? undefined : new Date(input.updated_since),
    },
    { sort, order, limit: input.limit, page: input.page, ...(cursor ? { after: cursor.position } : {}) },
    ctx.scope,
  );
  return {
    items: items.map(toSummary),
    total,
    page: input.page,
    limit: input.limit,
    next_cursor: next ? encodeCursor({ sort, order, position: next }) : null,
  };
});
