/**
 * Domain errors: the service maps each to one stable API error code.
 *
 * A refusal is an answer the API gives, not a fault: a lead that is not there, a status it
 * already has. It keeps no stack: tRPC copies a wrapped error's stack, which formats it (through
 * the source maps, in production) on every 404 and 409, and a refusal's stack is never logged.
 */
abstract class Refusal extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

export class LeadNotFoundError extends Refusal {
  override readonly name = 'LeadNotFoundError';
  constructor(readonly leadId: string) {
    super('Lead not found');
  }
}

export class StatusUnchangedError extends Refusal {
  override readonly name = 'StatusUnchangedError';
  constructor(readonly status: string) {
    super(`The lead is already ${status}`);
  }
}

/** A sales user may take a lead or release it, never hand it to someone else. */
export class AssignmentForbiddenError extends Refusal {
  override readonly name = 'AssignmentForbiddenError';
  constructor() {
    super('You may only assign a lead to yourself or unassign it');
  }
}

/** A lead cannot be merged into itself. */
export class MergeIntoSelfError extends Refusal {
  override readonly name = 'MergeIntoSelfError';
  constructor() {
    super('A lead cannot be merged into itself');
  }
}

/** The lead named was already merged into another: it is closed and takes no further merges. */
export class LeadAlreadyMergedError extends Refusal {
  override readonly name = 'LeadAlreadyMergedError';
  constructor(
    readonly leadId: string,
    readonly role: 'source' | 'target',
  ) {
    super(role === 'target' ? 'The target lead was itself merged into another lead' : 'This lead was already merged into another lead');
  }
}

/** The lead was erased: personal data cannot be written into it again (by an edit or a merge into it). */
export class LeadErasedError extends Refusal {
  override readonly name = 'LeadErasedError';
  constructor(readonly leadId: string) {
    super('The lead was erased: its personal data cannot be set again');
  }
}

/** The two leads are assigned to different people: merging would move one's timeline into the other's scope. */
export class MergeAcrossAssigneesError extends Refusal {
  override readonly name = 'MergeAcrossAssigneesError';
  constructor() {
    super('The leads are assigned to different users; assign them to the same user (or unassign one) before merging');
  }
}

/** The audit row could not be written, so the read or change it describes must not happen. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
  constructor(options: { cause: unknown }) {
    super('The audit trail cannot be written', options);
  }
}

export class EventNotFoundError extends Refusal {
  override readonly name = 'EventNotFoundError';
  constructor(readonly eventId: string) {
    super('Event not found');
  }
}

export class EventNotDeadError extends Refusal {
  override readonly name = 'EventNotDeadError';
  constructor(readonly state: string) {
    super(`Only a dead event can be retried; this one is ${state}`);
  }
}

export class IdempotencyKeyReusedError extends Refusal {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor() {
    super('This Idempotency-Key was already used with a different request body');
  }
}

/** The database cannot be reached, or will not serve right now: worth retrying shortly. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(options: { cause: unknown }) {
    super('The database is unavailable', options);
  }
}

/** A row with the same unique key exists (SQLSTATE 23505). */
export class UniqueViolationError extends Error {
  override readonly name = 'UniqueViolationError';
  constructor(options: { cause: unknown }) {
    super('A row with this key already exists', options);
  }
}

/** Another integrity constraint refused the row (SQLSTATE class 23). */
export class ConstraintViolationError extends Error {
  override readonly name = 'ConstraintViolationError';
  constructor(options: { cause: unknown }) {
    super('The row breaks an integrity constraint', options);
  }
}
