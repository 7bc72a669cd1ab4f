// The script-tag build: everything the website entry offers, on `window.LeadService`, and every
// `<form data-lead-service="https://leads.example.com">` on the page bound to the service it names.
import { collectAttribution, type AttributionPersist } from './attribution.js';
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

// Loaded on every page of the site, the script remembers where the visitor arrived
// (`<script src=… data-persist="local">` to remember it across visits, `none` not at all).
collectAttribution({ persist: globalThis.document?.currentScript?.dataset.persist as AttributionPersist | undefined });
