import { z } from 'zod';
import { defineContract, PUBLIC } from './contract.js';

export const Liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });
export type Liveness = z.infer<typeof Liveness>;

export const Readiness = z
  .object({
    status: z.literal('ok'),
    database: z.literal('ok'),
    migrations: z.literal('applied'),
  })
  .meta({ id: 'Readiness' });
export type Readiness = z.infer<typeof Readiness>;

/** Probes for orchestrators and load balancers: each answers within its own short bound. */
export const probeContracts = {
  live: defineContract({
    type: 'query',
    input: z.void(),
    output: Liveness,
    roles: PUBLIC,
    rateLimit: 'none',
    audit: 'none',
    method: 'GET',
    path: '/health/live',
    operationId: 'liveness',
    summary: 'Liveness: the process serves requests',
    description: 'Touches no database: restart the instance only when this fails.',
    tags: ['Operations'],
    examples: { response: { status: 'ok' } },
  }),
  ready: defineContract({
    type: 'query',
    input: z.void(),
    output: Readiness,
    roles: PUBLIC,
    rateLimit: 'none',
    audit: 'none',
    method: 'GET',
    path: '/health/ready',
    operationId: 'readiness',
    summary: 'Readiness: send this instance traffic',
    description:
      'Answers 503 at once while the instance drains for shutdown, and when the database does not answer within ' +
      '`READY_TIMEOUT_MS` or the migrations this version needs are not applied; it answers within that bound ' +
      'whatever the connection pool is doing.',
    tags: ['Operations'],
    errors: { 503: 'Not ready: shutting down, database unreachable within the bound, or migrations pending' },
    examples: { response: { status: 'ok', database: 'ok', migrations: 'applied' } },
  }),
};
