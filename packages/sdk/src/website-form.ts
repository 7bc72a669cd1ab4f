import { BadRequestError, ConnectionError, LeadServiceError, RateLimitedError, ServerError } from './errors.js';
import type { CreatedLead, CreateLeadInput } from './types.js';
import { newIdempotencyKey, submitLead, type SubmitLeadOptions } from './submit.js';

export interface LeadFormOptions extends Omit<SubmitLeadOptions, 'idempotencyKey' | 'signal'> {
  /** Texts shown in the form's status element; each has an English default. */
  messages?: {
    success?: (lead: CreatedLead) => string;
    rateLimited?: (retryAfterSeconds: number | null) => string;
    connection?: string;
    failed?: string;
  };
}

/** `event.detail` of the `lead:success` and `lead:error` events the form dispatches. */
export interface LeadFormEventDetail {
  lead?: CreatedLead;
  error?: LeadServiceError;
}

export interface LeadForm {
  /** Removes the listeners (the honeypot and status element stay). */
  unbind(): void;
}

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

const HONEYPOT = 'website';
const ERROR_ATTR = 'data-lead-error-for';

const defaults = {
  success: () => 'Thank you! Your message has been sent.',
  rateLimited: (seconds: number | null) =>
    `Too many messages from here. Please try again in ${seconds === null ? 'a while' : seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`}.`,
  connection: 'The message could not be sent: please check your connection and try again.',
  failed: 'Something went wrong. Please try again later.',
};

/** The form's fields by name, as sent: repeated names become arrays, files are left out. */
function readFields(form: HTMLFormElement): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  new FormData(form).forEach((value, name) => {
    if (typeof value !== 'string') return;
    const seen = fields[name];
    fields[name] = seen === undefined ? value : ([] as string[]).concat(seen, value);
  });
  return fields;
}

/**
 * A checked `consent` checkbox as the consent the service records: the policy version of its
 * `data-policy-version`, the wording of its label, and `marketing` from a checkbox of that name.
 */
function withConsent(form: HTMLFormElement, fields: Record<string, unknown>): Record<string, unknown> {
  const { consent, marketing, ...rest } = fields;
  const box = form.elements.namedItem('consent');
  if (consent === undefined || !(box instanceof HTMLInputElement)) return fields;
  const text = box.labels?.[0]?.textContent?.trim().slice(0, 2000);
  return { ...rest, consent: { policy_version: box.dataset.policyVersion, text, marketing: marketing !== undefined } };
}

/** Bots fill every input; people never see this one (see the service's honeypot). */
function addHoneypot(form: HTMLFormElement): void {
  if (form.elements.namedItem(HONEYPOT)) return;
  const box = document.createElement('div');
  box.setAttribute('aria-hidden', 'true');
  box.style.cssText = 'position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden';
  const input = document.createElement('input');
  Object.assign(input, { type: 'text', name: HONEYPOT, tabIndex: -1, autocomplete: 'off' });
  input.setAttribute('aria-hidden', 'true');
  box.append(input);
  form.append(box);
}

/**
 * Binds the lead helper to an existing `<form>`: its fields (by `name`, extra ones included) are
 * sent with `submitLead`, once per click, and the service's answer is shown on the form.
 *
 * - while sending, submit buttons are disabled and the form has `aria-busy="true"`;
 * - a field the service refused gets `aria-invalid`, a custom validity and a message element
 *   linked by `aria-describedby`; editing the field clears all three;
 * - other outcomes go to the form's `[data-lead-status]` element (added, `role="status"`, if
 *   missing); `data-lead-state` on the form is `busy`, `success` or `error`, to style by;
 * - `lead:success` and `lead:error` events (`CustomEvent<LeadFormEventDetail>`) bubble from the form.
 */
export function bindLeadForm(form: HTMLFormElement, options: LeadFormOptions): LeadForm {
  const messages = { ...defaults, ...options.messages };
  addHoneypot(form);
  let status = form.querySelector<HTMLElement>('[data-lead-status]');
  if (!status) {
    status = document.createElement('p');
    status.setAttribute('data-lead-status', '');
    status.setAttribute('role', 'status');
    form.append(status);
  }
  const statusEl = status;
  let busy = false;
  // One key per submission: sending the same fields again after a failure reuses it, so a
  // request that reached the service before the connection dropped is not stored twice.
  let pending: { body: string; key: string } | undefined;

  const clearError = (field: Field) => {
    field.setCustomValidity('');
    field.removeAttribute('aria-invalid');
    const message = form.querySelector(`[${ERROR_ATTR}="${CSS.escape(field.name)}"]`);
    if (!message) return;
    const ids = (field.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && id !== message.id);
    if (ids.length) field.setAttribute('aria-describedby', ids.join(' '));
    else field.removeAttribute('aria-describedby');
    message.remove();
  };

  const showError = (field: Field, text: string) => {
    clearError(field);
    const message = document.createElement('span');
    message.id = `lead-error-${Math.random().toString(36).slice(2)}`;
    message.setAttribute(ERROR_ATTR, field.name);
    message.textContent = text;
    field.after(message);
    field.setCustomValidity(text);
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', `${field.getAttribute('aria-describedby') ?? ''} ${message.id}`.trim());
  };

  const fieldNamed = (name: unknown): Field | null => {
    const item = typeof name === 'string' ? form.elements.namedItem(name) : null;
    return item instanceof HTMLInputElement || item instanceof HTMLTextAreaElement || item instanceof HTMLSelectElement ? item : null;
  };

  const onInput = (event: Event) => {
    const field = fieldNamed((event.target as Field | null)?.name);
    if (field?.hasAttribute('aria-invalid')) clearError(field);
  };

  const settle = (state: 'success' | 'error', text: string, detail: LeadFormEventDetail) => {
    statusEl.textContent = text;
    form.setAttribute('data-lead-state', state);
    form.dispatchEvent(new CustomEvent<LeadFormEventDetail>(`lead:${state}`, { bubbles: true, detail }));
  };

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    const buttons = Array.from(form.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button:not([type]),[type=submit]'));
    for (const button of buttons) button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    form.setAttribute('data-lead-state', 'busy');
    statusEl.textContent = '';
    for (const message of Array.from(form.querySelectorAll(`[${ERROR_ATTR}]`))) {
      const field = fieldNamed(message.getAttribute(ERROR_ATTR));
      if (field) clearError(field);
    }

    const input = withConsent(form, readFields(form)) as unknown as CreateLeadInput;
    const body = JSON.stringify(input);
    if (pending?.body !== body) pending = { body, key: newIdempotencyKey() };
    try {
      const lead = await submitLead(input, { ...options, idempotencyKey: pending.key });
      pending = undefined;
      form.reset();
      settle('success', messages.success(lead), { lead });
    } catch (cause) {
      const error = cause instanceof LeadServiceError ? cause : new LeadServiceError(String(cause), { cause });
      let text = messages.failed;
      if (error instanceof RateLimitedError) text = messages.rateLimited(error.retryAfterSeconds);
      else if (error instanceof ConnectionError) text = messages.connection;
      else if (error instanceof BadRequestError) {
        const fields = error.issues.map((issue) => [fieldNamed(issue.path[0]), issue.message] as const).filter(([field]) => field);
        for (const [field, message] of fields) showError(field!, message);
        fields[0]?.[0]!.focus();
        if (fields.length) text = error.issues.length > fields.length ? error.message : '';
      }
      // Only a failure the service may not have seen keeps the key for the next try.
      if (!(error instanceof ConnectionError || error instanceof ServerError)) pending = undefined;
      settle('error', text, { error });
    } finally {
      busy = false;
      for (const button of buttons) button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  };

  const submit = (event: SubmitEvent) => void onSubmit(event);
  form.addEventListener('submit', submit);
  form.addEventListener('input', onInput);
  return {
    unbind() {
      form.removeEventListener('submit', submit);
      form.removeEventListener('input', onInput);
    },
  };
}
