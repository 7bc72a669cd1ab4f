import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure } from '@trpc/server';
import type { z } from 'zod';
import type { LeadErrorShape } from './common/errors.js';
import { auditContracts } from './audit/contracts.js';
import type { Contract, LeadMeta } from './contract.js';
import { eventContracts } from './events/contracts.js';
import { healthContract } from './health.js';
import { leadContracts } from './leads/contracts.js';
import { CREATE_LEAD_PATH, CREATE_LEAD_PROCEDURE } from './routes.js';
import { privacyContracts } from './privacy/contracts.js';
import { probeContracts } from './probes.js';
import { reportContracts } from './reports/contracts.js';

/** Every procedure of the service, by its tRPC path. */
export const contracts = {
  health: healthContract,
  probes: probeContracts,
  leads: leadContracts,
  audit: auditContracts,
  events: eventContracts,
  reports: reportContracts,
  privacy: privacyContracts,
};
export type Contracts = typeof contracts;

/** The procedure type a contract describes, as clients see it. */
export type ProcedureOf<C extends Contract> =
  C extends Contract<infer TType, infer TInput, infer TOutput>
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

/** One procedure: its tRPC path (e.g. `leads.create`) and its contract. */
export interface ProcedureEntry {
  path: string;
  contract: Contract;
}

const isContract = (value: object): value is Contract => 'meta' in value && 'input' in value;

/** The procedures of a tree of contracts (the service's, or a test's own), by tRPC path. */
export function proceduresOf(node: object, prefix = ''): ProcedureEntry[] {
  return Object.entries(node).flatMap(([key, value]: [string, object]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isContract(value) ? [{ path, contract: value }] : proceduresOf(value, path);
  });
}

/**
 * Every procedure of the service, in declaration order: the one walk of the contracts that
 * the server (routing and policies), the OpenAPI document and the tests all read.
 */
export const procedures: readonly ProcedureEntry[] = proceduresOf(contracts);

// The schema-free routes module restates the public create for the website bundle: it must agree.
if (procedures.find((p) => p.contract.meta.openapi.path === CREATE_LEAD_PATH)?.path !== CREATE_LEAD_PROCEDURE) {
  throw new Error(`${CREATE_LEAD_PROCEDURE} must be the procedure at ${CREATE_LEAD_PATH}`);
}
