// The form helper in headless Chromium against the live service, on the README's own markup and
// code: the script-tag page is the README's HTML snippet, the bundled page runs the README's
// TypeScript snippet (bundled by esbuild), only the service URL and script address swapped.
import { readFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { README_SERVICE_URL, readmeSnippet } from './support/readme.js';
import { startService, uniqueEmail, type Service } from './support/service.js';
import { launchChromium } from './support/chromium.js';

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/sdk-browser/', import.meta.url));
const AXE = fileURLToPath(import.meta.resolve('axe-core/axe.min.js'));

const html = (body: string, head = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contact us</title>${head}</head><body><main><h1>Contact us</h1>${body}</main></body></html>`;

let service: Service;
let limited: Service;
let site: Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  const script = await readFile(new URL('../dist/lead-service.global.js', import.meta.url));
  const bundled = await build({
    stdin: {
      contents: readmeSnippet('Website: the form helper', 'ts'),
      loader: 'ts',
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
    },
    alias: { '@lead-service/sdk/website': fileURLToPath(new URL('../dist/website.js', import.meta.url)) },
    bundle: true,
    format: 'esm',
    write: false,
  });
  const snippetJs = bundled.outputFiles[0]!.text;
  const scriptTagForm = readmeSnippet('Website, with a script tag', 'html').replace(
    /<script src="[^"]+"/,
    '<script src="/lead-service.global.js"',
  );
  site = createServer((req, res) => {
    const url = new URL(req.url!, 'http://site');
    const target = url.searchParams.get('service') === 'limited' ? limited.url : service.url;
    if (url.pathname === '/lead-service.global.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (url.pathname === '/snippet.js')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(snippetJs.replace(README_SERVICE_URL, service.url));
    else if (url.pathname === '/bundled')
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          html(
            '<form id="contact"><label>Name <input name="name" required></label><label>Email <input name="email" type="email" required></label><button>Send</button></form>',
            '<script type="module" src="/snippet.js"></script>',
          ),
        );
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html(scriptTagForm.replace(README_SERVICE_URL, target)));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  [service, limited] = await Promise.all([
    startService({ CORS_ORIGINS: origin }),
    startService({ CORS_ORIGINS: origin, RATE_LIMIT_CREATE_PER_HOUR: '1' }),
  ]);
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([service?.stop(), limited?.stop()]);
  site?.close();
});

const leadsWith = (email: string, on = service) => on.sql('select name, email, message from lead.leads where email = $1', [email]);

/** A fresh tab on the README's script-tag page, recording the form's events and every create request. */
async function open(path = '/'): Promise<{ page: Page; creates: { body: string; key: string | undefined }[] }> {
  const page = await browser.newPage();
  const creates: { body: string; key: string | undefined }[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/api/v1/leads'))
      creates.push({ body: request.postData() ?? '', key: request.headers()['idempotency-key'] });
  });
  await page.addInitScript(() => {
    const w = window as unknown as { leadEvents: string[] };
    w.leadEvents = [];
    for (const type of ['lead:success', 'lead:error'])
      document.addEventListener(type, (e) => {
        const error = (e as CustomEvent<{ error?: Error }>).detail.error;
        w.leadEvents.push(error ? `${type} ${error.name}` : type);
      });
  });
  await page.goto(`${origin}${path}`);
  return { page, creates };
}

const events = (page: Page) => page.evaluate(() => (window as unknown as { leadEvents: string[] }).leadEvents);
const settled = (page: Page) => page.waitForSelector('form[data-lead-state=success], form[data-lead-state=error]');
const status = async (page: Page) => (await page.textContent('[data-lead-status]'))?.trim();

async function fill(page: Page, fields: { name: string; email: string; message?: string }) {
  await page.fill('[name=name]', fields.name);
  await page.fill('[name=email]', fields.email);
  if (fields.message !== undefined) await page.fill('[name=message]', fields.message);
  await page.check('[name=consent]');
}

async function axeViolations(page: Page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe;
    return (await axe.run()).violations.map((v) => `${v.id} (${v.nodes.length})`);
  });
}

describe('bindLeadForm in a real browser', () => {
  it('is used by keyboard alone: tab order skips the honeypot, the lead is stored, extra fields are sent', async () => {
    const { page, creates } = await open();
    const email = uniqueEmail();
    const visited: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      visited.push(await page.evaluate(() => (document.activeElement as HTMLInputElement).name || document.activeElement!.tagName));
      if (i === 0) await page.keyboard.type('Grace Hopper');
      if (i === 1) await page.keyboard.type(email);
      if (i === 2) await page.keyboard.type('By keyboard');
      if (i === 3) await page.keyboard.press('Space');
    }
    expect(visited).toEqual(['name', 'email', 'message', 'consent', 'BUTTON']);
    await page.keyboard.press('Enter');
    await settled(page);
    await page.screenshot({ path: `${ARTIFACTS}form-sent.png`, fullPage: true });

    expect(await status(page)).toBe('Thank you! Your message has been sent.');
    expect(await page.getAttribute('form', 'data-lead-state')).toBe('success');
    expect(await events(page)).toEqual(['lead:success']);
    expect(await leadsWith(email)).toEqual([{ name: 'Grace Hopper', email, message: 'By keyboard' }]);
    expect(
      await service.sql(
        'select c.policy_version, c.marketing, c.text from lead.lead_consents c join lead.leads l on l.id = c.lead_id where l.email = $1',
        [email],
      ),
    ).toEqual([{ policy_version: '2024-01', marketing: false, text: 'You may contact me about my enquiry' }]);
    expect(creates).toHaveLength(1);
    // The visitor's attribution goes along with the form's own fields.
    expect(JSON.parse(creates[0]!.body)).toEqual({
      name: 'Grace Hopper',
      email,
      message: 'By keyboard',
      // The checkbox, as the consent the service records: its policy version and wording.
      consent: { policy_version: '2024-01', text: 'You may contact me about my enquiry', marketing: false },
      website: '',
      attribution: expect.objectContaining({ page: `${origin}/`, landing_page: `${origin}/` }),
    });
    // The form is ready for the next enquiry.
    expect(await page.inputValue('[name=email]')).toBe('');
    await page.close();
  });

  it('adds a honeypot hidden from people and assistive technology', async () => {
    const { page } = await open();
    const honeypot = await page.$eval('[name=website]', (input) => {
      const box = input.parentElement!.getBoundingClientRect();
      return {
        tabIndex: (input as HTMLInputElement).tabIndex,
        autocomplete: input.getAttribute('autocomplete'),
        ariaHidden: input.getAttribute('aria-hidden'),
        offScreen: box.right <= 0 || box.left >= window.innerWidth,
      };
    });
    expect(honeypot).toEqual({ tabIndex: -1, autocomplete: 'off', ariaHidden: 'true', offScreen: true });
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });

  it("shows the service's field error on the field, clears it on edit, then sends the corrected form", async () => {
    const { page } = await open();
    const email = uniqueEmail();
    // The browser's own check accepts it; the service does not.
    await fill(page, { name: 'Jane Doe', email: 'jane@localhost', message: 'Hi' });
    expect(await page.$eval('[name=email]', (input) => (input as HTMLInputElement).checkValidity())).toBe(true);
    await page.click('button[type=submit]');
    await settled(page);
    await page.screenshot({ path: `${ARTIFACTS}form-field-error.png`, fullPage: true });

    const field = await page.$eval('[name=email]', (input) => {
      const el = input as HTMLInputElement;
      const described = (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent);
      return {
        invalid: el.getAttribute('aria-invalid'),
        custom: el.validity.customError,
        described,
        focused: document.activeElement === el,
      };
    });
    expect(field).toEqual({ invalid: 'true', custom: true, described: [expect.stringMatching(/.+/)], focused: true });
    expect(await events(page)).toEqual(['lead:error BadRequestError']);
    expect(await axeViolations(page)).toEqual([]);
    expect(await leadsWith('jane@localhost')).toEqual([]);

    // Editing clears the error at once, so the browser lets the form be sent again.
    await page.fill('[name=email]', email);
    const cleared = await page.$eval('[name=email]', (input) => ({
      invalid: input.getAttribute('aria-invalid'),
      describedby: input.getAttribute('aria-describedby'),
      valid: (input as HTMLInputElement).checkValidity(),
      messages: document.querySelectorAll('[data-lead-error-for]').length,
    }));
    expect(cleared).toEqual({ invalid: null, describedby: null, valid: true, messages: 0 });
    await page.click('button[type=submit]');
    await page.waitForSelector('form[data-lead-state=success]');
    expect(await leadsWith(email)).toEqual([{ name: 'Jane Doe', email, message: 'Hi' }]);
    await page.close();
  });

  it('sends one submission for a double click, busy meanwhile', async () => {
    const { page, creates } = await open();
    const email = uniqueEmail();
    // Holds the answer back, so the busy state can be observed.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`${service.url}/api/v1/leads`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
    });
    await fill(page, { name: 'Double', email });
    await page.dblclick('button[type=submit]');
    await page.waitForSelector('form[aria-busy=true]');
    expect(await page.$eval('button[type=submit]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}form-busy.png`, fullPage: true });
    release();
    await settled(page);
    expect(await page.getAttribute('form', 'aria-busy')).toBeNull();
    expect(await page.$eval('button[type=submit]', (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    expect(creates).toHaveLength(1);
    expect(await leadsWith(email)).toHaveLength(1);
    await page.close();
  });

  it('after a network failure, sending again reuses the key: one lead is stored', async () => {
    const { page, creates } = await open();
    const email = uniqueEmail();
    // The first request reaches the service, but no answer reaches the page, nor do the retries.
    let cutOff = true;
    await page.route(`${service.url}/api/v1/leads`, async (route) => {
      if (route.request().method() !== 'POST' || !cutOff) return route.continue();
      if (creates.length === 1) await route.fetch();
      await route.abort('connectionreset');
    });
    await fill(page, { name: 'Flaky Network', email });
    await page.click('button[type=submit]');
    await settled(page);
    expect(await status(page)).toMatch(/check your connection/);
    expect(await events(page)).toEqual(['lead:error ConnectionError']);
    expect(creates).toHaveLength(3); // the submission and its two retries
    expect(await leadsWith(email)).toHaveLength(1);

    cutOff = false;
    await page.click('button[type=submit]');
    await page.waitForSelector('form[data-lead-state=success]');
    expect(new Set(creates.map((c) => c.key)).size).toBe(1);
    expect(await leadsWith(email)).toHaveLength(1);
    await page.close();
  });

  it('shows the retry time when rate limited', async () => {
    const { page } = await open('/?service=limited');
    await fill(page, { name: 'First', email: uniqueEmail() });
    await page.click('button[type=submit]');
    await page.waitForSelector('form[data-lead-state=success]');
    await fill(page, { name: 'Second', email: uniqueEmail() });
    await page.click('button[type=submit]');
    await page.waitForSelector('form[data-lead-state=error]');
    await page.screenshot({ path: `${ARTIFACTS}form-rate-limited.png`, fullPage: true });
    expect(await status(page)).toMatch(/^Too many messages from here\. Please try again in [1-9]\d* (seconds|minutes)\.$/);
    expect(await events(page)).toEqual(['lead:success', 'lead:error RateLimitedError']);
    await page.close();
  });

  it("runs the README's bundled snippet", async () => {
    const { page } = await open('/bundled');
    const email = uniqueEmail();
    await page.waitForSelector('form [name=website]');
    await page.fill('[name=name]', 'Bundled');
    await page.fill('[name=email]', email);
    await page.click('button');
    await page.waitForSelector('form[data-lead-state=success]');
    expect(await leadsWith(email)).toEqual([{ name: 'Bundled', email, message: null }]);
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });
});
