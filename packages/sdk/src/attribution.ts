import type { AttributionInput } from './types.js';

export type { AttributionInput };

/**
 * Where the visitor's arrival is remembered between their pages: `session` (default: until the
 * tab is closed), `local` (across visits, so the first touch survives), or `none` (nothing is
 * stored; only the current page is sent).
 */
export type AttributionPersist = 'session' | 'local' | 'none';

export interface AttributionOptions {
  persist?: AttributionPersist;
}

type Touch = Omit<NonNullable<AttributionInput['first_touch']>, 'page'>;

const KEY = 'lead-service:attribution';
/** The page's choice: the script tag's `data-persist`, or the last `persist` given on this page. */
let chosen: AttributionPersist = 'session';
const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;

/**
 * The URL without its fragment and without query parameters other than `utm_*` and the click
 * ids: other parameters may carry the visitor's e-mail address or a token, which must not be
 * stored in the browser or sent. Undefined for anything the service would refuse.
 */
function clean(href: string | undefined): string | undefined {
  try {
    const url = new URL(href!);
    url.hash = '';
    for (const name of [...url.searchParams.keys()]) if (!/^(utm_.+|gclid|fbclid|msclkid)$/i.test(name)) url.searchParams.delete(name);
    if (/^https?:$/.test(url.protocol) && url.href.length <= 2048) return url.href;
  } catch {
    // not a URL: left out
  }
}

/** This page as an arrival: its utm parameters, and the referrer when it is another site. */
function arrival(): Touch {
  const touch: Touch = { landing_page: clean(location.href), at: new Date().toISOString() };
  const params = new URLSearchParams(location.search);
  for (const name of UTM) {
    const value = params.get(name)?.trim().slice(0, 200);
    if (value) touch[name] = value;
  }
  const referrer = clean(document.referrer);
  if (referrer && new URL(referrer).host !== location.host) touch.referrer = referrer;
  return touch;
}

function storage(persist: AttributionPersist): Storage | undefined {
  try {
    return persist === 'none' ? undefined : persist === 'local' ? localStorage : sessionStorage;
  } catch {
    // storage disabled (privacy settings): nothing is remembered
  }
}

/**
 * Records the page it runs on and returns the attribution of a submission from it: the latest
 * arrival (a page reached with utm parameters or from another site; else the first page seen)
 * with its landing page and referrer, the current page, and the first arrival remembered.
 * Call it on every page (the script-tag build does so when it loads), so that the landing page
 * is known when the visitor reaches the form. Without `persist`, the one given last on this
 * page applies (the script tag's `data-persist`), else `session`. Undefined outside a browser.
 */
export function collectAttribution(options: AttributionOptions = {}): AttributionInput | undefined {
  if (typeof document == 'undefined') return;
  const now = arrival();
  const store = storage((chosen = options.persist ?? chosen));
  let seen: { first: Touch; last: Touch } | undefined;
  try {
    seen = (JSON.parse(store?.getItem(KEY) ?? 'null') as typeof seen | null) ?? undefined;
  } catch {
    // unreadable: start again
  }
  const arrived = now.referrer || UTM.some((name) => now[name]);
  seen = seen ? { first: seen.first, last: arrived ? now : seen.last } : { first: now, last: now };
  try {
    store?.setItem(KEY, JSON.stringify(seen));
  } catch {
    // full or disabled: this page still gets its attribution
  }
  const { at, ...last } = seen.last;
  void at;
  return { ...last, page: clean(location.href), ...(store ? { first_touch: seen.first } : {}) };
}
