import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeSnippet } from './support/readme.js';
import { startService, uniqueEmail, type Service } from './support/service.js';

const run = promisify(execFile);
const SDK_DIR = fileURLToPath(new URL('..', import.meta.url));
// The workspace's pinned pnpm, whether or not one is installed globally.
const PNPM = fileURLToPath(new URL('../../../tooling/scripts/pnpm.mjs', import.meta.url));

/** What a CMS or website developer writes after `npm install @lead-service/sdk`. */
const CONSUMER = `
import { createLeadClient, NotFoundError, type LeadDetail } from '@lead-service/sdk';
import { submitLead, BadRequestError, LeadServiceError as WebsiteError, type CreatedLead } from '@lead-service/sdk/website';

const url = process.env.SERVICE_URL!;
const created: CreatedLead = await submitLead({ name: 'Packed', email: process.env.EMAIL!, company: 'Tarball Ltd' }, { baseURL: url });
const cms = createLeadClient({ baseURL: url, token: process.env.TOKEN });
const lead: LeadDetail = await cms.leads.get.query({ lead_id: created.id });
const closedAt: Date | null = (await cms.leads.updateStatus.mutate({ lead_id: lead.id, status: 'closed_lost', lost_reason: 'price' })).closed_at;
let validation = '';
try {
  await submitLead({ name: 'x', email: 'not-an-email' }, { baseURL: url });
} catch (error) {
  if (error instanceof BadRequestError) validation = error.issues.map((i) => i.path.join('.')).join(',');
}
let missing = 0;
try {
  await cms.leads.get.query({ lead_id: '00000000-0000-4000-8000-000000000000' });
} catch (error) {
  if (error instanceof NotFoundError && error instanceof WebsiteError) missing = error.status ?? 0;
}
console.log(JSON.stringify({ id: lead.id, company: lead.company, created: created.created_at instanceof Date, closed: closedAt instanceof Date, validation, missing }));
`;

/** The same code with a typo in a field name: the published types must catch it. */
const TYPO = `
import { submitLead } from '@lead-service/sdk/website';
import { createLeadClient } from '@lead-service/sdk';
await submitLead({ name: 'Typo', emial: 'a@example.com' }, { baseURL: 'http://localhost' });
await createLeadClient({ baseURL: 'http://localhost' }).leads.list.query({ stauts: 'new' });
await createLeadClient({ baseURL: 'http://localhost' }).leads.list.query({ page: 'second' });
`;

/** Every entry, as a file of each module system imports it; page: 'second' must be refused everywhere. */
const RESOLVES = `
import { createLeadClient, NotFoundError } from '@lead-service/sdk';
import { bindLeadForm, submitLead } from '@lead-service/sdk/website';
import { constructLeadEvent, type LeadServiceEvent } from '@lead-service/sdk/receiver';
const cms = createLeadClient({ baseURL: 'http://localhost' });
export const list = () => cms.leads.list.query({ page: 1, limit: 20 });
// @ts-expect-error a page is a number
export const bad = () => cms.leads.list.query({ page: 'second' });
export const status: number | undefined = new NotFoundError('x').status;
export const parts = [bindLeadForm, submitLead, constructLeadEvent];
export type Event = LeadServiceEvent['event_type'];
`;

/** The module settings a CMS or website project may have, each with the file it compiles. */
const RESOLUTIONS = {
  node10: { module: 'CommonJS', moduleResolution: 'Node10', file: 'resolve-node10.ts' },
  node16: { module: 'Node16', moduleResolution: 'Node16', file: 'resolve-node16.cts' },
  nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext', file: 'resolve-nodenext.mts' },
  bundler: { module: 'ESNext', moduleResolution: 'Bundler', file: 'resolve-bundler.ts' },
} as const;

const README_SNIPPETS = {
  'readme-form.ts': ['Website: the form helper', 'ts'],
  'readme-submit.ts': ['Website: `submitLead` with your own form code', 'ts'],
  'readme-cms.ts': ['CMS', 'ts'],
  'readme-receiver.ts': ['Receiving events', 'ts'],
} as const;

const strictConfig = (compilerOptions: Record<string, unknown>, files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      strict: true,
      noEmit: true,
      // As most projects set it; a declaration that failed to resolve would make the SDK's types
      // \`any\`, which the @ts-expect-error in each file then reports as unused.
      skipLibCheck: true,
      types: ['node'],
      ...compilerOptions,
    },
    files,
  });

const tsconfig = (...files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      // As most projects set it. A declaration that failed to resolve would turn the SDK's types
      // into \`any\`, which the typo check below would then let through.
      skipLibCheck: true,
      types: ['node'],
    },
    files,
  });

let service: Service;
let project: string;

beforeAll(async () => {
  // Outside the workspace, so nothing resolves through the monorepo's node_modules.
  project = await mkdtemp(join(tmpdir(), 'lead-sdk-consumer-'));
  const [, started] = await Promise.all([
    (async () => {
      // pnpm's pack, as \`changeset publish\` uses it: it turns catalog: and workspace: versions into real ones.
      await run(process.execPath, [PNPM, '--dir', SDK_DIR, 'pack', '--pack-destination', project]);
      const tarball = (await readdir(project)).find((f) => f.endsWith('.tgz'))!;
      await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
      await writeFile(join(project, 'consumer.ts'), CONSUMER);
      await writeFile(join(project, 'typo.ts'), TYPO);
      await writeFile(join(project, 'tsconfig.json'), tsconfig('consumer.ts', 'typo.ts'));
      for (const [name, { file, module, moduleResolution }] of Object.entries(RESOLUTIONS)) {
        await writeFile(join(project, file), RESOLVES);
        await writeFile(join(project, `tsconfig.${name}.json`), strictConfig({ module, moduleResolution }, [file]));
      }
      for (const [file, [heading, lang]] of Object.entries(README_SNIPPETS))
        await writeFile(join(project, file), readmeSnippet(heading, lang));
      await writeFile(
        join(project, 'tsconfig.readme.json'),
        strictConfig({ module: 'NodeNext', moduleResolution: 'NodeNext' }, Object.keys(README_SNIPPETS)),
      );
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          `./${tarball}`,
          // What the README tells a CMS developer to add; npm adds @trpc/server, @trpc/client's peer.
          '@trpc/client@11.25.2',
          'superjson@2.2.6',
          'typescript@5.9.3',
          // What \`npm create vite\` scaffolds today: a website's tsc may be the native TypeScript 7.
          'typescript7@npm:typescript@7.0.2',
          'tsx@4.23.15',
          '@types/node@20.19.43',
        ],
        {
          cwd: project,
        },
      );
    })(),
    startService(),
  ]);
  service = started;
}, 240_000);
afterAll(async () => {
  await service?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the packed SDK in a project of its own', () => {
  it('ships only public references: nothing from the workspace', async () => {
    const dist = join(project, 'node_modules/@lead-service/sdk/dist');
    for (const file of await readdir(dist)) {
      if (/\.d\.c?ts$/.test(file)) expect(await readFile(join(dist, file), 'utf8'), file).not.toMatch(/@lead\/|lead-api/);
    }
    const manifest = JSON.parse(await readFile(join(project, 'node_modules/@lead-service/sdk/package.json'), 'utf8'));
    // Nothing is installed with the package itself: the CMS entry's packages are optional peers.
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.peerDependencies).toEqual({ '@trpc/client': '^11.25.2', '@trpc/server': '^11.25.2', superjson: '^2.2.6' });
    expect(Object.values(manifest.peerDependenciesMeta)).toEqual([{ optional: true }, { optional: true }, { optional: true }]);
  });

  it('type-checks code that uses both entries, and refuses a wrong field name', async () => {
    // One compiler run for both files (type-checking is the slow part): every error must be a typo.
    const output = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: project }).then(
      () => expect.unreachable('the typos should not type-check'),
      (e: { stdout: string }) => e.stdout,
    );
    const errors = output.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toEqual([
      expect.stringMatching(/^typo\.ts\(4,\d+\): error TS\d+: .*'emial'/),
      expect.stringMatching(/^typo\.ts\(5,\d+\): error TS\d+: .*'stauts'/),
      expect.stringMatching(/^typo\.ts\(6,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/),
    ]);
  });

  it("compiles the README's TypeScript snippets under --strict, as written", async () => {
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.readme.json'], { cwd: project }).catch(
      (e: { stdout: string }) => expect.unreachable(e.stdout),
    );
  });

  for (const [compiler, tsc] of [
    ['TypeScript 5.9', 'node_modules/typescript/bin/tsc'],
    ['TypeScript 7', 'node_modules/typescript7/bin/tsc'],
  ] as const) {
    it(`resolves every entry under node10, node16, nodenext and bundler with ${compiler}, with --strict`, async () => {
      const { stdout } = await run(process.execPath, [tsc, '--version'], { cwd: project });
      expect(stdout).toMatch(compiler === 'TypeScript 7' ? /Version 7\./ : /Version 5\.9\./);
      // TypeScript 7 has removed node10 (TS5108), so projects on it use one of the others.
      for (const name of Object.keys(RESOLUTIONS).filter((n) => compiler === 'TypeScript 5.9' || n !== 'node10')) {
        await run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: project }).catch((e: { stdout: string }) =>
          expect.unreachable(`${name}: ${e.stdout}`),
        );
      }
    });
  }

  it('runs against the live service', async () => {
    const email = uniqueEmail();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'consumer.ts'], {
      cwd: project,
      env: { ...process.env, SERVICE_URL: service.url, TOKEN: await service.adminToken(), EMAIL: email },
    });
    const result = JSON.parse(stdout);
    expect(result).toEqual({
      id: expect.any(String),
      company: 'Tarball Ltd',
      created: true,
      closed: true,
      validation: 'email',
      missing: 404,
    });
    expect(await service.sql('select status from lead.leads where email = $1', [email])).toEqual([{ status: 'closed_lost' }]);
  });
});
