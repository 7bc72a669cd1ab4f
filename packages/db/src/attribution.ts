import type { FirstTouchRecord } from './entities/lead-attribution.js';
import type { LeadSource } from './entities/lead.js';

/** One arrival as a client reports it (the contract's attribution fields; all optional). */
export interface TouchInput {
  utm_source?: string | null;
  utm_medium?: string | null;
  utm_campaign?: string | null;
  utm_term?: string | null;
  utm_content?: string | null;
  referrer?: string | null;
  landing_page?: string | null;
  page?: string | null;
}

export interface AttributionInput extends TouchInput {
  first_touch?: (TouchInput & { at?: string | null }) | null;
}

/** Attribution as stored: cleaned URLs, absent fields null. */
export interface AttributionRecord {
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  referrer: string | null;
  landingPage: string | null;
  page: string | null;
  firstTouch: FirstTouchRecord | null;
}

const URL_MAX = 2048;
/** Query parameters that say where a visit came from and nothing about the visitor. */
const KEPT_PARAMETER = /^(utm_[a-z0-9_]+|gclid|fbclid|msclkid)$/i;

/**
 * The URL without credentials, without its fragment and without any query parameter but
 * `utm_*`, `gclid`, `fbclid` and `msclkid`: query strings carry e-mail addresses, names and
 * tokens, which must not be collected by accident. The kept parameters keep their original
 * spelling. Null for anything that is not an http(s) URL.
 */
export function cleanUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => {
      const name = pair.split('=')[0]!;
      try {
        return KEPT_PARAMETER.test(decodeURIComponent(name.replace(/\+/g, ' ')));
      } catch {
        return false;
      }
    });
  const cleaned = `${url.protocol}//${url.host}${url.pathname}${kept.length ? `?${kept.join('&')}` : ''}`;
  // Longer only when the host was converted to punycode; such a URL is dropped, not cut.
  return cleaned.length <= URL_MAX ? cleaned : null;
}

const text = (value: string | null | undefined) => (value ? value : null);

function touch(input: TouchInput) {
  return {
    utm_source: text(input.utm_source),
    utm_medium: text(input.utm_medium),
    utm_campaign: text(input.utm_campaign),
    utm_term: text(input.utm_term),
    utm_content: text(input.utm_content),
    referrer: cleanUrl(input.referrer),
    landing_page: cleanUrl(input.landing_page),
    page: cleanUrl(input.page),
  };
}

/** The attribution to store, or null when the submission carried nothing. */
export function normalizeAttribution(input: AttributionInput | null | undefined): AttributionRecord | null {
  if (!input) return null;
  const t = touch(input);
  const first = input.first_touch ? { ...touch(input.first_touch), at: text(input.first_touch.at) } : null;
  const record: AttributionRecord = {
    utmSource: t.utm_source,
    utmMedium: t.utm_medium,
    utmCampaign: t.utm_campaign,
    utmTerm: t.utm_term,
    utmContent: t.utm_content,
    referrer: t.referrer,
    landingPage: t.landing_page,
    page: t.page,
    firstTouch: first && Object.values(first).some((v) => v !== null) ? first : null,
  };
  return Object.values(record).some((v) => v !== null) ? record : null;
}

// ---- source derivation ------------------------------------------------------------------------

const SOCIAL_MEDIUMS = new Set([
  'social',
  'social-media',
  'social_media',
  'socialmedia',
  'sm',
  'social-network',
  'paid-social',
  'paid_social',
  'paidsocial',
]);
const REFERRAL_MEDIUMS = new Set(['referral', 'affiliate', 'partner']);
const WEBSITE_MEDIUMS = new Set(['organic', 'direct', '(none)', 'none']);

/** Social networks by registrable domain (a subdomain such as `l.facebook.com` matches too). */
const SOCIAL_DOMAINS = [
  'facebook.com',
  'fb.com',
  'fb.me',
  'instagram.com',
  'twitter.com',
  'x.com',
  't.co',
  'linkedin.com',
  'lnkd.in',
  'youtube.com',
  'youtu.be',
  'reddit.com',
  'pinterest.com',
  'tiktok.com',
  'threads.net',
  'snapchat.com',
  'tumblr.com',
  'vk.com',
  'xing.com',
  'mastodon.social',
  'bsky.app',
  'quora.com',
  'whatsapp.com',
  'telegram.org',
  't.me',
];
/** Search engines: a visitor who searched and clicked through found the website itself. */
const SEARCH_DOMAINS = [
  /(^|\.)google\.[a-z.]+$/,
  /(^|\.)bing\.com$/,
  /(^|\.)duckduckgo\.com$/,
  /(^|\.)search\.yahoo\.com$/,
  /(^|\.)yahoo\.com$/,
  /(^|\.)baidu\.com$/,
  /(^|\.)yandex\.[a-z.]+$/,
  /(^|\.)ecosia\.org$/,
  /(^|\.)search\.brave\.com$/,
  /(^|\.)startpage\.com$/,
];

const hostOf = (url: string | null) => {
  if (!url) return null;
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return null;
  }
};
const within = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/**
 * The `source` of a lead whose caller left it out, from the latest arrival's attribution:
 *
 * 1. `utm_medium` (case-insensitive), when present: a social medium (`social`, `social-media`,
 *    `paid-social`, `sm`…) → `social`; `referral`, `affiliate`, `partner` → `referral`;
 *    `organic`, `direct`, `none` → `website`; any other medium (`email`, `cpc`, `display`…) → `other`.
 * 2. Otherwise the referrer's host: a social network → `social`; a search engine, or the site
 *    itself (the landing page's host; `www.` ignored) → `website`; any other site → `referral`.
 * 3. No medium and no referrer (a direct visit, or no attribution at all) → `website`.
 */
export function deriveSource(attribution: AttributionRecord | null): LeadSource {
  const medium = attribution?.utmMedium?.trim().toLowerCase();
  if (medium) {
    if (SOCIAL_MEDIUMS.has(medium)) return 'social';
    if (REFERRAL_MEDIUMS.has(medium)) return 'referral';
    if (WEBSITE_MEDIUMS.has(medium)) return 'website';
    return 'other';
  }
  const referrer = hostOf(attribution?.referrer ?? null);
  if (!referrer) return 'website';
  if (SOCIAL_DOMAINS.some((domain) => within(referrer, domain))) return 'social';
  if (SEARCH_DOMAINS.some((pattern) => pattern.test(referrer))) return 'website';
  const site = hostOf(attribution?.landingPage ?? attribution?.page ?? null);
  if (site && (referrer === site || within(referrer, site) || within(site, referrer))) return 'website';
  return 'referral';
}
