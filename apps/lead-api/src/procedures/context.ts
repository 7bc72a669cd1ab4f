import type { AuditEntry, Database, LeadScope } from '@lead/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Authenticator, User } from '../auth.js';
import type { RateLimit } from '../http/rate-limit.js';
import type { RetentionConfig } from '../ops/retention.js';

/** What every procedure sees, built from the HTTP request by `http/context.ts`. */
export interface Context {
  /** The database: every repository runs on it. */
  db: Database;
  auth: Authenticator;
  requestId: string;
  /** The client's address, canonical (see `http/client-address.ts`). */
  ip: string;
  userAgent: string | null;
  /** The raw `Authorization` header; verified only by procedures that need a user. */
  authorization: string | undefined;
  /** Which surface the call came through: REST errors and tRPC errors are shaped differently. */
  surface: 'rest' | 'trpc';
  log: FastifyBaseLogger;
  setHeader(name: string, value: string): void;
  /** The `Idempotency-Key` header, read by `leads.create`. */
  idempotencyKey: string | undefined;
  /** Budget per authenticated user, for contracts whose policy names it; null: unlimited. */
  userRateLimit: RateLimit | null;
  /** Records a submission caught by the honeypot field (counted and logged, without its data). */
  honeypotCaught(): void;
  /** Settings of the lead procedures. */
  leads: { duplicateWindowDays: number; requireConsent: boolean };
  /** Settings of the privacy procedures. */
  privacy: { erasureHashSecret: string };
  /** The retention rules in force and the job's schedule (`ops/retention.ts`). */
  retention: RetentionConfig;
}

/** Every procedure carries the audit row its call must write, if its contract audits it. */
export interface PublicContext extends Context {
  audit: AuditEntry;
}

export interface AuthedContext extends PublicContext {
  user: User;
  /** The leads this user may see: a `sales` user only their own. */
  scope: LeadScope;
}
