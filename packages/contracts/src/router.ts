import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure } from '@trpc/server';
import type { z } from 'zod';
import type { LeadErrorShape } from './common/errors.js';
import { auditContracts } from './audit/contracts.js';
import type { Contract, LeadMeta } from './contract.js';
import { eventContracts } from './events/contracts.js';
import { healthContract } from './health.js';
import { leadContracts } from './leads/contracts.js';

/** Every procedure of the service, by its tRPC path. */
export const contracts = {
  health: healthContract,
  leads: leadContracts,
  audit: auditContracts,
  events: eventContracts,
};
export type Contracts = typeof contracts;

/** The procedure type a contract describes, as clients see it. */
export type ProcedureOf<C extends Contract> = C extends Contract<infer TType, infer TInput, infer TOutput>
  ? TType extends 'query'
    ? TRPCQueryProcedure<{ input: z.input<TInput>; output: z.output<TOutput>; meta: LeadMeta; errorShape: LeadErrorShape }>
    : TRPCMutationProcedure<{ input: z.input<TInput>; output: z.output<TOutput>; meta: LeadMeta; errorShape: LeadErrorShape }>
  : never;

type RecordOf<T> = { [K in keyof T]: T[K] extends Contract ? ProcedureOf<T[K]> : RecordOf<T[K]> };

/**
 * The router type clients are typed with, derived from the contracts alone so that client
 * declarations never reach into the service's source (trpc#5004).
 */
export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: LeadMeta; errorShape: LeadErrorShape; transformer: true },
  RecordOf<Contracts>
>;
