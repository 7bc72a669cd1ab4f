import { defineContract, type Role } from '../contract.js';
import { PipelineReport, PipelineReportInput, SourcesReport, SourcesReportInput } from './schemas.js';

const tags = ['Reports'];
const STAFF: Role[] = ['admin', 'cms', 'sales'];
const SCOPE = ' A `sales` caller gets the figures of the leads assigned to them only.';

export const reportContracts = {
  pipeline: defineContract({
    type: 'query',
    input: PipelineReportInput,
    output: PipelineReport,
    roles: STAFF,
    rateLimit: 'user',
    // Figures only, no lead data; each call is still in the trail, naming no lead.
    audit: { kind: 'read', leadIds: () => [] },
    method: 'GET',
    path: '/api/v1/reports/pipeline',
    operationId: 'pipelineReport',
    summary: 'Pipeline figures for a period: stages entered, conversion, time in stage, win rate',
    description:
      'Over the leads matching the filters (the list’s, plus `from`/`to`). `leads` and `by_status` count the leads created in the period; ' +
      'the stage figures follow the status timeline (the `created` entry and every `status_changed` activity): a stage is entered when a lead is created (`new`) or moved to it. ' +
      'Times in stage are from entering a stage to the next status change.' +
      SCOPE,
    tags,
  }),
  sources: defineContract({
    type: 'query',
    input: SourcesReportInput,
    output: SourcesReport,
    roles: STAFF,
    rateLimit: 'user',
    audit: { kind: 'read', leadIds: () => [] },
    method: 'GET',
    path: '/api/v1/reports/sources',
    operationId: 'sourcesReport',
    summary: 'Leads, qualified, won and lost per source, utm source, medium or campaign',
    description: 'Over the leads created in the period that match the filters, grouped by `group_by`.' + SCOPE,
    tags,
  }),
};
