// The script-tag build: everything the website entry offers, on `window.LeadService`, and every
// `<form data-lead-service="https://leads.example.com">` on the page bound to the service it names.
import { bindLeadForm } from './website-form.js';

export * from './website.js';

function bindMarkedForms(): void {
  for (const form of Array.from(document.querySelectorAll<HTMLFormElement>('form[data-lead-service]'))) {
    if (form.hasAttribute('data-lead-bound')) continue;
    form.setAttribute('data-lead-bound', '');
    bindLeadForm(form, { baseURL: form.getAttribute('data-lead-service')! });
  }
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', bindMarkedForms);
  else bindMarkedForms();
}
