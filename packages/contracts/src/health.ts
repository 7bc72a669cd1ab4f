import { z } from 'zod';
import { defineContract, PUBLIC } from './contract.js';

export const Health = z
  .object({
    status: z.literal('ok'),
    database: z.literal('ok'),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const healthContract = defineContract({
  type: 'query',
  input: z.void(),
  output: Health,
  roles: PUBLIC,
  rateLimit: 'none',
  audit: 'none',
  method: 'GET',
  path: '/health',
  operationId: 'health',
  summary: 'Liveness and database reachability',
  description: 'Answers 503 when the database cannot be reached.',
  tags: ['Operations'],
  errors: { 503: 'The database cannot be reached' },
  examples: { response: { status: 'ok', database: 'ok' } },
});
