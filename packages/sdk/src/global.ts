// The script-tag build: everything the website entry offers, on `window.LeadService`.
export * from './website.js';
