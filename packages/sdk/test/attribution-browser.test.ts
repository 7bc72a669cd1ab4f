import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, uniqueEmail, type Service } from './support/service.js';
import { launchChromium } from './support/chromium.js';

const GLOBAL_BUILD = new URL('../dist/lead-service.global.js', import.meta.url);

// A small site on http://127.0.0.1:<port>: every page loads the script-tag build (with the
// `data-persist` of its folder), /<mode>/pricing is where campaigns land, /<mode>/contact holds
// the form. http://localhost:<port>/out is "another site" that links to a landing page.
type Mode = 'session' | 'local' | 'none' | 'off';

const sitePage = (serviceUrl: string, mode: Mode, body: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Example</title>
<script src="/lead-service.global.js" ${mode === 'off' ? '' : `data-persist="${mode}"`}></script></head>
<body>${body}</body>
<script>
const form = document.getElementById('contact');
if (form) form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = document.getElementById('result');
  try {
    const lead = await LeadService.submitLead(Object.fromEntries(new FormData(form)), {
      baseURL: ${JSON.stringify(serviceUrl)}, ${"attribution: '" + mode + "' !== 'off'"},
    });
    out.textContent = lead.id;
  } catch (error) {
    out.textContent = 'error ' + error.name + ' ' + JSON.stringify(error.issues ?? []);
  }
  out.dataset.done = 'true';
});
</script></html>`;

const form = `<form id="contact"><input name="name"><input name="email"><button type="submit">Send</button></form><p id="result"></p>`;

let service: Service;
let site: Server;
let port: number;
let browser: Browser;
let admin: string;

beforeAll(async () => {
  const script = await readFile(GLOBAL_BUILD);
  site = createServer((req, res) => {
    const url = new URL(req.url!, 'http://site');
    const [, mode, page] = url.pathname.split('/') as [string, Mode, string];
    if (url.pathname === '/lead-service.global.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    if (url.pathname === '/out') {
      const target = url.searchParams.get('to')!;
      return res.writeHead(200, { 'content-type': 'text/html' }).end(`<a id="go" href="${target}">a partner's link</a>`);
    }
    const body = page === 'contact' ? form : `<a id="next" href="/${mode}/contact">Contact us</a>`;
    res.writeHead(200, { 'content-type': 'text/html' }).end(sitePage(service.url, mode, body));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  port = (site.address() as AddressInfo).port;
  service = await startService({ CORS_ORIGINS: `http://127.0.0.1:${port}` });
  admin = await service.adminToken();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
  site?.close();
});

const api = async (path: string) => {
  const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status, path).toBe(200);
  return res.json();
};

let n = 0;
const campaign = () => `launch-${process.pid}-${n++}`;
const landingUrl = (mode: Mode, utmCampaign: string) =>
  `http://127.0.0.1:${port}/${mode}/pricing?utm_source=partner-blog&utm_medium=referral&utm_campaign=${utmCampaign}&email=jane%40example.com&gclid=g-1#plans`;

/** Another site → the utm-tagged landing page → the contact page (two pages later) → submit. */
async function visitAndSubmit(context: BrowserContext, mode: Mode, utmCampaign: string, via: 'link' | 'direct' = 'link') {
  const tab = await context.newPage();
  if (via === 'link') {
    await tab.goto(`http://localhost:${port}/out?to=${encodeURIComponent(landingUrl(mode, utmCampaign))}`);
    await Promise.all([tab.waitForURL(/\/pricing/), tab.click('#go')]);
  } else {
    await tab.goto(`http://127.0.0.1:${port}/${mode}/pricing`);
  }
  await Promise.all([tab.waitForURL(/\/contact$/), tab.click('#next')]);
  const email = uniqueEmail();
  await tab.fill('input[name=name]', 'Jane Doe');
  await tab.fill('input[name=email]', email);
  await tab.click('button[type=submit]');
  await tab.waitForSelector('#result[data-done=true]');
  const id = (await tab.textContent('#result'))!;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  await tab.close();
  return id;
}

describe('attribution from the website, in Chromium', () => {
  it('a lead sent two pages after a utm-tagged landing page carries its attribution to the detail, the filter and both reports', async () => {
    const context = await browser.newContext();
    const utmCampaign = campaign();
    const id = await visitAndSubmit(context, 'session', utmCampaign);

    const lead = await api(`/api/v1/leads/${id}`);
    const landing = `http://127.0.0.1:${port}/session/pricing?utm_source=partner-blog&utm_medium=referral&utm_campaign=${utmCampaign}&gclid=g-1`;
    expect(lead.source).toBe('referral');
    expect(lead.attribution).toEqual({
      utm_source: 'partner-blog',
      utm_medium: 'referral',
      utm_campaign: utmCampaign,
      utm_term: null,
      utm_content: null,
      // The browser's default referrer policy sends another site only the origin.
      referrer: `http://localhost:${port}/`,
      landing_page: landing,
      page: `http://127.0.0.1:${port}/session/contact`,
      first_touch: {
        utm_source: 'partner-blog',
        utm_medium: 'referral',
        utm_campaign: utmCampaign,
        utm_term: null,
        utm_content: null,
        referrer: `http://localhost:${port}/`,
        landing_page: landing,
        page: null,
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    expect(JSON.stringify(lead.attribution)).not.toMatch(/jane|plans/);

    const found = await api(`/api/v1/leads?utm_campaign=${utmCampaign}`);
    expect(found).toMatchObject({ total: 1, items: [{ id }] });
    const pipeline = await api(`/api/v1/reports/pipeline?utm_campaign=${utmCampaign}`);
    expect(pipeline).toMatchObject({ leads: 1, by_status: { new: 1 } });
    const sources = await api(`/api/v1/reports/sources?group_by=utm_campaign&utm_campaign=${utmCampaign}`);
    expect(sources.groups).toEqual([expect.objectContaining({ key: utmCampaign, leads: 1 })]);
    await context.close();
  });

  it("with persist 'local', the first touch outlives the session: a later direct visit keeps it", async () => {
    const context = await browser.newContext();
    const utmCampaign = campaign();
    await visitAndSubmit(context, 'local', utmCampaign);
    // A new tab is a new session; localStorage is shared across the site's tabs.
    const id = await visitAndSubmit(context, 'local', 'unused', 'direct');
    const { attribution } = await api(`/api/v1/leads/${id}`);
    expect(attribution.first_touch).toMatchObject({ utm_campaign: utmCampaign, referrer: `http://localhost:${port}/` });
    // Internal navigation is no new arrival: the latest arrival is still the campaign's.
    expect(attribution.utm_campaign).toBe(utmCampaign);
    await context.close();
  });

  it("with persist 'session', a new session starts again", async () => {
    const context = await browser.newContext();
    await visitAndSubmit(context, 'session', campaign());
    const id = await visitAndSubmit(context, 'session', 'unused', 'direct');
    const { attribution, source } = await api(`/api/v1/leads/${id}`);
    expect(attribution).toMatchObject({ utm_campaign: null, referrer: null, landing_page: `http://127.0.0.1:${port}/session/pricing` });
    expect(source).toBe('website');
    await context.close();
  });

  it("with persist 'none', only the current page is sent and nothing is stored in the browser", async () => {
    const context = await browser.newContext();
    const id = await visitAndSubmit(context, 'none', campaign());
    const { attribution } = await api(`/api/v1/leads/${id}`);
    expect(attribution).toMatchObject({
      utm_campaign: null,
      landing_page: `http://127.0.0.1:${port}/none/contact`,
      page: `http://127.0.0.1:${port}/none/contact`,
      first_touch: null,
    });
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${port}/none/pricing`);
    expect(await tab.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
    await context.close();
  });

  it('sends no attribution when the call opts out', async () => {
    const context = await browser.newContext();
    const id = await visitAndSubmit(context, 'off', campaign());
    expect((await api(`/api/v1/leads/${id}`)).attribution).toBeNull();
    await context.close();
  });
});
