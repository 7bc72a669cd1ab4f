// Type-level tests, checked by `tsc --noEmit` (part of `npm test`): the SDK's plain types are
// exactly the contracts' `z.input` / `z.output`, procedure by procedure, so they cannot drift.
import type { AppRouter as ContractRouter, ValidationIssue as ContractValidationIssue } from '@lead/contracts';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { describe, expectTypeOf, it } from 'vitest';
import type { AppRouter, LeadClient, ValidationIssue } from '../src/index.js';

type SdkIn = inferRouterInputs<AppRouter>;
type SdkOut = inferRouterOutputs<AppRouter>;
type In = inferRouterInputs<ContractRouter>;
type Out = inferRouterOutputs<ContractRouter>;

describe('the SDK router type', () => {
  it('has the contracts inputs and outputs for every procedure', () => {
    expectTypeOf<keyof SdkIn>().toEqualTypeOf<keyof In>();
    expectTypeOf<SdkIn['health']>().toEqualTypeOf<In['health']>();
    expectTypeOf<SdkOut['health']>().toEqualTypeOf<Out['health']>();
    expectTypeOf<keyof SdkIn['probes']>().toEqualTypeOf<keyof In['probes']>();
    expectTypeOf<SdkOut['probes']['live']>().toEqualTypeOf<Out['probes']['live']>();
    expectTypeOf<SdkOut['probes']['ready']>().toEqualTypeOf<Out['probes']['ready']>();
    expectTypeOf<keyof SdkIn['leads']>().toEqualTypeOf<keyof In['leads']>();
    expectTypeOf<SdkIn['leads']['create']>().toEqualTypeOf<In['leads']['create']>();
    expectTypeOf<SdkOut['leads']['create']>().toEqualTypeOf<Out['leads']['create']>();
    expectTypeOf<SdkIn['leads']['list']>().toEqualTypeOf<In['leads']['list']>();
    expectTypeOf<SdkOut['leads']['list']>().toEqualTypeOf<Out['leads']['list']>();
    expectTypeOf<SdkIn['leads']['get']>().toEqualTypeOf<In['leads']['get']>();
    expectTypeOf<SdkOut['leads']['get']>().toEqualTypeOf<Out['leads']['get']>();
    expectTypeOf<SdkIn['leads']['updateStatus']>().toEqualTypeOf<In['leads']['updateStatus']>();
    expectTypeOf<SdkOut['leads']['updateStatus']>().toEqualTypeOf<Out['leads']['updateStatus']>();
    expectTypeOf<SdkIn['leads']['update']>().toEqualTypeOf<In['leads']['update']>();
    expectTypeOf<SdkOut['leads']['update']>().toEqualTypeOf<Out['leads']['update']>();
    expectTypeOf<SdkIn['leads']['merge']>().toEqualTypeOf<In['leads']['merge']>();
    expectTypeOf<SdkOut['leads']['merge']>().toEqualTypeOf<Out['leads']['merge']>();
    expectTypeOf<SdkIn['leads']['assign']>().toEqualTypeOf<In['leads']['assign']>();
    expectTypeOf<SdkOut['leads']['assign']>().toEqualTypeOf<Out['leads']['assign']>();
    expectTypeOf<SdkIn['leads']['addActivity']>().toEqualTypeOf<In['leads']['addActivity']>();
    expectTypeOf<SdkOut['leads']['addActivity']>().toEqualTypeOf<Out['leads']['addActivity']>();
    expectTypeOf<keyof SdkIn['reports']>().toEqualTypeOf<keyof In['reports']>();
    expectTypeOf<SdkIn['reports']['pipeline']>().toEqualTypeOf<In['reports']['pipeline']>();
    expectTypeOf<SdkOut['reports']['pipeline']>().toEqualTypeOf<Out['reports']['pipeline']>();
    expectTypeOf<SdkIn['reports']['sources']>().toEqualTypeOf<In['reports']['sources']>();
    expectTypeOf<SdkOut['reports']['sources']>().toEqualTypeOf<Out['reports']['sources']>();
    expectTypeOf<keyof SdkIn['audit']>().toEqualTypeOf<keyof In['audit']>();
    expectTypeOf<SdkIn['audit']['list']>().toEqualTypeOf<In['audit']['list']>();
    expectTypeOf<SdkOut['audit']['list']>().toEqualTypeOf<Out['audit']['list']>();
    expectTypeOf<keyof SdkIn['events']>().toEqualTypeOf<keyof In['events']>();
    expectTypeOf<SdkIn['events']['list']>().toEqualTypeOf<In['events']['list']>();
    expectTypeOf<SdkOut['events']['list']>().toEqualTypeOf<Out['events']['list']>();
    expectTypeOf<SdkIn['events']['stats']>().toEqualTypeOf<In['events']['stats']>();
    expectTypeOf<SdkOut['events']['stats']>().toEqualTypeOf<Out['events']['stats']>();
    expectTypeOf<SdkIn['events']['retry']>().toEqualTypeOf<In['events']['retry']>();
    expectTypeOf<SdkOut['events']['retry']>().toEqualTypeOf<Out['events']['retry']>();
    expectTypeOf<keyof SdkIn['privacy']>().toEqualTypeOf<keyof In['privacy']>();
    expectTypeOf<SdkIn['privacy']['export']>().toEqualTypeOf<In['privacy']['export']>();
    expectTypeOf<SdkOut['privacy']['export']>().toEqualTypeOf<Out['privacy']['export']>();
    expectTypeOf<SdkIn['privacy']['erase']>().toEqualTypeOf<In['privacy']['erase']>();
    expectTypeOf<SdkOut['privacy']['erase']>().toEqualTypeOf<Out['privacy']['erase']>();
    expectTypeOf<SdkIn['privacy']['retention']>().toEqualTypeOf<In['privacy']['retention']>();
    expectTypeOf<SdkOut['privacy']['retention']>().toEqualTypeOf<Out['privacy']['retention']>();
  });

  it('takes page and limit as numbers', () => {
    expectTypeOf<SdkIn['leads']['list']['page']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<SdkIn['leads']['list']['limit']>().toEqualTypeOf<number | undefined>();
    const list = (client: LeadClient) => {
      void client.leads.list.query({ page: 2, limit: 50 });
      // @ts-expect-error a page is a number, not a word
      void client.leads.list.query({ page: 'second' });
      // @ts-expect-error nor a numeric string: REST coerces query strings, typed callers send numbers
      void client.audit.list.query({ limit: '20' });
      // @ts-expect-error events are paged the same way
      void client.events.list.query({ page: '1' });
    };
    expectTypeOf(list).toBeFunction();
  });
});

describe('the SDK error types', () => {
  it('spell a validation issue exactly as the contracts document it', () => {
    expectTypeOf<ValidationIssue>().toEqualTypeOf<ContractValidationIssue>();
  });
});
