import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's headless Chromium (playwright cannot download its own here), with nothing that would
 * reach out of the machine: no QUIC, background networking, component updates or sync.
 */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
