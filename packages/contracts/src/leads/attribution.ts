import { z } from 'zod';

// PostgreSQL text cannot hold NUL; refusing it here turns a would-be 500 into a field-level 400.
// eslint-disable-next-line no-control-regex -- NUL is exactly the character refused
const NO_NUL = /^[^\u0000]*$/;

export const ATTRIBUTION_LIMITS = { utm: 200, url: 2048 } as const;

/** A utm parameter as the landing URL carried it: trimmed, empty means absent. */
const UtmValue = z.string().trim().max(ATTRIBUTION_LIMITS.utm).regex(NO_NUL, 'must not contain NUL characters');

/**
 * An http(s) URL of the visitor's browsing. The service keeps only its `utm_*`, `gclid`,
 * `fbclid` and `msclkid` query parameters and drops the fragment: query strings carry e-mail
 * addresses and tokens, which are not collected by accident.
 */
const PageUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(ATTRIBUTION_LIMITS.url)
  .meta({ example: 'https://www.example.com/pricing?utm_source=newsletter' });

const touch = {
  utm_source: UtmValue.optional().meta({ example: 'newsletter' }),
  utm_medium: UtmValue.optional().meta({ example: 'email' }),
  utm_campaign: UtmValue.optional().meta({ example: 'spring-sale' }),
  utm_term: UtmValue.optional(),
  utm_content: UtmValue.optional(),
  referrer: PageUrl.optional().meta({ description: 'The page that linked to the landing page (`document.referrer`).' }),
  landing_page: PageUrl.optional().meta({ description: 'The first page of this visit.' }),
  page: PageUrl.optional().meta({ description: 'The page the form was sent from.' }),
};

export const FirstTouchInput = z
  .strictObject({
    ...touch,
    at: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the visitor first arrived (ISO 8601).' }),
  })
  .meta({ id: 'FirstTouchInput', description: 'The visitor’s first arrival, remembered by the site across visits.' });

export const AttributionInput = z.strictObject({ ...touch, first_touch: FirstTouchInput.optional() }).meta({
  id: 'AttributionInput',
  description:
    'Where the visitor came from, for the latest arrival (utm parameters of its landing URL, referrer, landing page) and the first. ' +
    'Unknown fields are refused. URLs are stored without query parameters other than `utm_*`, `gclid`, `fbclid`, `msclkid`, and without fragments.',
});
export type AttributionInput = z.input<typeof AttributionInput>;

const stored = {
  utm_source: z.string().nullable(),
  utm_medium: z.string().nullable(),
  utm_campaign: z.string().nullable(),
  utm_term: z.string().nullable(),
  utm_content: z.string().nullable(),
  referrer: z.string().nullable(),
  landing_page: z.string().nullable(),
  page: z.string().nullable(),
};

export const FirstTouch = z
  .object({ ...stored, at: z.string().nullable().meta({ description: 'ISO 8601, as the site reported it.' }) })
  .meta({ id: 'FirstTouch' });
export type FirstTouch = z.infer<typeof FirstTouch>;

export const Attribution = z
  .object({ ...stored, first_touch: FirstTouch.nullable() })
  .meta({ id: 'Attribution', description: 'Where the lead came from, as stored (URLs without other query parameters).' });
export type Attribution = z.infer<typeof Attribution>;

/** The list filters on attribution: exact match, combined with AND. */
export const UtmFilters = {
  utm_source: z.string().min(1).max(ATTRIBUTION_LIMITS.utm).optional().meta({ description: 'Only leads with exactly this `utm_source`.' }),
  utm_medium: z.string().min(1).max(ATTRIBUTION_LIMITS.utm).optional().meta({ description: 'Only leads with exactly this `utm_medium`.' }),
  utm_campaign: z
    .string()
    .min(1)
    .max(ATTRIBUTION_LIMITS.utm)
    .optional()
    .meta({ description: 'Only leads with exactly this `utm_campaign`.' }),
};
