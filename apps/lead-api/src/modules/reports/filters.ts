import type { LeadFilter, Period } from '@lead/db';

interface ReportInput {
  from?: string | undefined;
  to?: string | undefined;
  status?: LeadFilter['status'];
  source?: LeadFilter['source'];
  assigned_to?: string | undefined;
  utm_source?: string | undefined;
  utm_medium?: string | undefined;
  utm_campaign?: string | undefined;
}

/** A report's period and the list's filters, as the repository takes them. */
export function reportScope(input: ReportInput): { period: Period; filter: LeadFilter } {
  return {
    period: { from: input.from ? new Date(input.from) : null, to: input.to ? new Date(input.to) : null },
    filter: {
      status: input.status,
      source: input.source,
      assignedTo: input.assigned_to,
      utmSource: input.utm_source,
      utmMedium: input.utm_medium,
      utmCampaign: input.utm_campaign,
    },
  };
}

/** `part / whole`, or null when there is nothing to divide. */
export const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);
