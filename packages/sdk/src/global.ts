// The script-tag build: everything the website entry offers, on `window.LeadService`.
export * from './website.js';
import { collectAttribution, type AttributionPersist } from './attribution.js';

// Loaded on every page of the site, the script remembers where the visitor arrived
// (`<script src=… data-persist="local">` to remember it across visits, `none` not at all).
collectAttribution({ persist: globalThis.document?.currentScript?.dataset.persist as AttributionPersist | undefined });
