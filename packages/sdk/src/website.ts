// `@lead-service/sdk/website`: plain `fetch`, no dependencies. Types only from the contracts:
// nothing of zod, tRPC or superjson reaches this bundle (scripts/size.mjs checks it).
export type { ClientOptions } from './internal/request.js';
export type { CreatedLead, CreateLeadInput, ErrorCode, ValidationIssue } from './types.js';
export * from './errors.js';
export { submitLead, type SubmitLeadOptions } from './submit.js';
export { collectAttribution, type AttributionInput, type AttributionOptions, type AttributionPersist } from './attribution.js';
export { bindLeadForm, type LeadForm, type LeadFormOptions, type LeadFormEventDetail } from './website-form.js';
