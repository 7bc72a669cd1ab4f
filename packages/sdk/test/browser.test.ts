import { readFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, uniqueEmail, type Service } from './support/service.js';
import { launchChromium } from './support/chromium.js';

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/sdk-browser/', import.meta.url));
const GLOBAL_BUILD = new URL('../dist/lead-service.global.js', import.meta.url);

/** A website without a bundler: a form, the script-tag build, and a few lines of glue. */
const page = (serviceUrl: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Contact us</title>
<script src="/lead-service.global.js"></script></head>
<body>
<form id="contact">
  <input name="name" placeholder="Name"> <input name="email" placeholder="Email">
  <textarea name="message" placeholder="Message"></textarea>
  <button type="submit">Send</button>
</form>
<p id="result"></p>
<script>
document.getElementById('contact').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = document.getElementById('result');
  const input = Object.fromEntries(new FormData(event.target));
  try {
    const lead = await LeadService.submitLead(input, { baseURL: ${JSON.stringify(serviceUrl)}, maxRetries: 0 });
    out.textContent = 'created ' + lead.id + ' at ' + lead.created_at.toISOString();
  } catch (error) {
    if (error instanceof LeadService.RateLimitedError) out.textContent = 'rate limited, retry after ' + error.retryAfterSeconds + ' s';
    else if (error instanceof LeadService.BadRequestError) out.textContent = 'invalid ' + error.issues.map((i) => i.path.join('.')).join(',');
    else if (error instanceof LeadService.ConnectionError) out.textContent = error.name;
    else out.textContent = 'other error ' + error.name;
  }
  out.dataset.done = 'true';
});
</script></body></html>`;

let service: Service;
let site: Server;
let sitePort: number;
let browser: Browser;

beforeAll(async () => {
  const script = await readFile(GLOBAL_BUILD);
  site = createServer((req, res) => {
    if (req.url === '/lead-service.global.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(service.url));
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  sitePort = (site.address() as AddressInfo).port;
  // The same page on http://localhost:<port> is another origin, one not in CORS_ORIGINS.
  // One create per hour per client: the third submission below meets the limit.
  service = await startService({ CORS_ORIGINS: `http://127.0.0.1:${sitePort}`, RATE_LIMIT_CREATE_PER_HOUR: '1' });
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
  site?.close();
});

async function submitForm(
  origin: string,
  fields: { name: string; email: string; message: string },
): Promise<{ page: Page; result: string }> {
  const tab = await browser.newPage();
  await tab.goto(`${origin}/`);
  await tab.fill('input[name=name]', fields.name);
  await tab.fill('input[name=email]', fields.email);
  await tab.fill('textarea[name=message]', fields.message);
  await tab.click('button[type=submit]');
  await tab.waitForSelector('#result[data-done=true]');
  return { page: tab, result: (await tab.textContent('#result')) ?? '' };
}

const countLeads = async (email: string) =>
  Number((await service.sql<{ n: string }>('select count(*) as n from lead.leads where email = $1', [email]))[0]!.n);

describe('the script-tag build in a real browser', () => {
  it('submits a form from an allowed origin; the lead is stored', async () => {
    const email = uniqueEmail();
    const { page, result } = await submitForm(`http://127.0.0.1:${sitePort}`, { name: 'Grace Hopper', email, message: 'From the browser' });
    await page.screenshot({ path: `${ARTIFACTS}submitted.png`, fullPage: true });
    expect(result).toMatch(/^created [0-9a-f-]{36} at \d{4}-\d\d-\d\dT/);
    const rows = await service.sql('select name, message, source, status from lead.leads where email = $1', [email]);
    expect(rows).toEqual([{ name: 'Grace Hopper', message: 'From the browser', source: 'website', status: 'new' }]);
    await page.close();
  });

  it('is refused by the browser on an origin not in CORS_ORIGINS; nothing is stored', async () => {
    const email = uniqueEmail();
    const { page, result } = await submitForm(`http://localhost:${sitePort}`, { name: 'Mallory', email, message: 'Elsewhere' });
    await page.screenshot({ path: `${ARTIFACTS}refused-origin.png`, fullPage: true });
    // The class name survives the minified build: it is what error trackers show.
    expect(result).toBe('ConnectionError');
    expect(await countLeads(email)).toBe(0);
    await page.close();
  });

  it('shows the typed rate-limit error, with the retry time, once the limit is met', async () => {
    const email = uniqueEmail();
    const { page, result } = await submitForm(`http://127.0.0.1:${sitePort}`, { name: 'Grace Again', email, message: 'Once more' });
    await page.screenshot({ path: `${ARTIFACTS}rate-limited.png`, fullPage: true });
    expect(result).toMatch(/^rate limited, retry after [1-9]\d* s$/);
    expect(await countLeads(email)).toBe(0);
    await page.close();
  });
});
