// The router type the CMS client is typed with, from the SDK's plain types, so that the
// published declarations need @trpc/server's types but never zod's. test/types.test.ts proves
// every procedure's input and output equal to the contracts' own router.
import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure } from '@trpc/server';
import type * as T from './types.js';

type Query<I, O> = TRPCQueryProcedure<{ input: I; output: O; meta: object; errorShape: T.LeadErrorShape }>;
type Mutation<I, O> = TRPCMutationProcedure<{ input: I; output: O; meta: object; errorShape: T.LeadErrorShape }>;

export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: T.LeadErrorShape; transformer: true },
  {
    health: Query<void, T.Health>;
    probes: { live: Query<void, T.Liveness>; ready: Query<void, T.Readiness> };
    leads: {
      create: Mutation<T.CreateLeadInput, T.CreatedLead>;
      list: Query<T.ListLeadsInput, T.LeadPage>;
      get: Query<T.LeadIdInput, T.LeadDetail>;
      updateStatus: Mutation<T.UpdateLeadStatusInput, T.LeadStatusResult>;
      update: Mutation<T.UpdateLeadInput, T.LeadDetail>;
      merge: Mutation<T.MergeLeadInput, T.LeadDetail>;
      assign: Mutation<T.AssignLeadInput, T.LeadAssignment>;
      addActivity: Mutation<T.AddActivityInput, T.Activity>;
    };
    audit: { list: Query<T.ListAuditInput, T.AuditPage> };
    reports: { pipeline: Query<T.PipelineReportInput, T.PipelineReport>; sources: Query<T.SourcesReportInput, T.SourcesReport> };
    events: {
      list: Query<T.ListEventsInput, T.EventPage>;
      stats: Query<void, T.EventStats>;
      retry: Mutation<T.EventIdInput, T.OutboxEvent>;
    };
    privacy: {
      export: Query<T.ExportInput, T.PersonalDataExport>;
      erase: Mutation<T.EraseInput, T.ErasureResult>;
      retention: Query<void, T.RetentionOverview>;
    };
  }
>;
