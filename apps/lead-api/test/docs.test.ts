import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

// Debian's Chromium (`.ci/run` installs it); Playwright's own browser download cannot work offline.
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

let t: TestApp;
let browser: Browser;
let page: Page;
let doc: any;
/** Every request the page made, and those that would have left this machine (blocked). */
const requested: string[] = [];
const offHost: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  doc = (await t.rest('GET', '/api/v1/openapi.json')).body;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    requested.push(url.href);
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) return route.continue();
    offHost.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  await page.goto(`${t.url}/docs`);
  await page.locator('.opblock').first().waitFor({ timeout: 45_000 });
});

afterAll(async () => {
  await browser?.close();
});

const operations = () =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) =>
    Object.entries<any>(item).map(([method, op]) => ({ path, method, operationId: op.operationId as string, tag: op.tags[0] as string })),
  );

describe('/docs', () => {
  it('lists every operation of the document', async () => {
    expect(operations().length).toBeGreaterThanOrEqual(8);
    for (const op of operations()) {
      const block = page.locator(`#operations-${op.tag}-${op.operationId}`);
      await expect.poll(() => block.count(), { message: `${op.method} ${op.path}` }).toBe(1);
      expect(await block.locator('.opblock-summary-method').innerText()).toBe(op.method.toUpperCase());
      expect(await block.locator('.opblock-summary-path').getAttribute('data-path')).toBe(op.path);
    }
    expect(await page.locator('.opblock').count()).toBe(operations().length);
  });

  it('loads everything from the service itself, nothing from elsewhere', () => {
    expect(requested.some((u) => u.endsWith('/api/v1/openapi.json'))).toBe(true);
    expect(requested.some((u) => u.endsWith('/docs/swagger-ui-bundle.js'))).toBe(true);
    expect(offHost).toEqual([]);
    for (const url of requested) {
      const { pathname } = new URL(url);
      expect(pathname === '/api/v1/openapi.json' || pathname === '/docs' || pathname.startsWith('/docs/'), url).toBe(true);
    }
  });

  it('calls the live service from "Try it out"', async () => {
    const block = page.locator('#operations-Operations-health');
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table tbody .response-col_status').first();
    await expect.poll(() => status.innerText(), { timeout: 20_000 }).toBe('200');
    expect(await block.locator('.live-responses-table tbody .microlight').first().innerText()).toContain('"database": "ok"');
    // The document's server is relative: the call goes to the host the page came from.
    expect(requested).toContain(`${t.url}/health`);
    expect(offHost).toEqual([]);
  });

  it('serves its page and assets under /docs only', async () => {
    for (const path of ['/docs', '/docs/', '/docs/init.js', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(200);
    }
    expect((await fetch(`${t.url}/docs/index.html`)).status).toBe(404);
    expect((await fetch(`${t.url}/docs/%2e%2e/package.json`)).status).toBe(404);
  });
});
