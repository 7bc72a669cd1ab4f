import { z } from 'zod';
import { Timestamp } from '../common/ids.js';
import { optionalText, requiredText, strictBoolean } from '../common/text.js';

export const CONSENT_LIMITS = { policyVersion: 100, text: 2000 } as const;

export const ConsentInput = z
  .strictObject({
    policy_version: requiredText(CONSENT_LIMITS.policyVersion).optional().meta({
      description: 'The version of the privacy policy the visitor accepted. Required when the service runs with `REQUIRE_CONSENT=true`.',
      example: '2024-01',
    }),
    marketing: strictBoolean()
      .optional()
      .meta({ description: 'Whether the visitor agreed to marketing messages (default false).', example: false }),
    text: optionalText(CONSENT_LIMITS.text).meta({
      description: 'The wording the visitor was shown, as shown.',
      example: 'I agree to the privacy policy and to being contacted about my enquiry.',
    }),
  })
  .meta({
    id: 'ConsentInput',
    description:
      'What the visitor agreed to on the form. Stored with the time and the page it was given on (`attribution.page`, else `attribution.landing_page`, cleaned like attribution URLs). Unknown fields are refused.',
  });
export type ConsentInput = z.input<typeof ConsentInput>;

export const Consent = z
  .object({
    policy_version: z.string().nullable(),
    marketing: z.boolean(),
    text: z.string().nullable(),
    page: z.string().nullable().meta({ description: 'Where it was given; removed when the lead is erased.' }),
    given_at: Timestamp,
  })
  .meta({ id: 'Consent', description: 'A consent given with a submission, as stored.' });
export type Consent = z.infer<typeof Consent>;
