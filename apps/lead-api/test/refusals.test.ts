import { DatabaseUnavailableError, LeadNotFoundError, StatusUnchangedError } from '@lead/db';
import { expect, it } from 'vitest';

it('a refusal (404, 409) keeps no stack to format, a fault keeps its stack, and the limit is left as it was', () => {
  const limit = Error.stackTraceLimit;
  for (const refusal of [new LeadNotFoundError('x'), new StatusUnchangedError('new')]) {
    expect(refusal.stack).toBe(`${refusal.name}: ${refusal.message}`);
    expect(refusal).toBeInstanceOf(Error);
  }
  expect(Error.stackTraceLimit).toBe(limit);
  expect(new DatabaseUnavailableError({ cause: null }).stack).toMatch(/\n\s+at /);
});
