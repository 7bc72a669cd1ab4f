/** Domain errors: the service maps each to one stable API error code. */
export class LeadNotFoundError extends Error {
  override readonly name = 'LeadNotFoundError';
  constructor(readonly leadId: string) {
    super('Lead not found');
  }
}

export class StatusUnchangedError extends Error {
  override readonly name = 'StatusUnchangedError';
  constructor(readonly status: string) {
    super(`The lead is already ${status}`);
  }
}

export class EventNotFoundError extends Error {
  override readonly name = 'EventNotFoundError';
  constructor(readonly eventId: string) {
    super('Event not found');
  }
}

export class EventNotDeadError extends Error {
  override readonly name = 'EventNotDeadError';
  constructor(readonly state: string) {
    super(`Only a dead event can be retried; this one is ${state}`);
  }
}
