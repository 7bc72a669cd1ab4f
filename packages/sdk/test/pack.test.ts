import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, uniqueEmail, type Service } from './support/service.js';

const run = promisify(execFile);
const SDK_DIR = fileURLToPath(new URL('..', import.meta.url));
// The workspace's pinned pnpm, whether or not one is installed globally.
const PNPM = fileURLToPath(new URL('../../../tooling/scripts/pnpm.mjs', import.meta.url));

/** What a CMS or website developer writes after `npm install @lead-service/sdk`. */
const CONSUMER = `
import { createLeadClient, LeadApiError, type LeadDetail } from '@lead-service/sdk';
import { submitLead, LeadValidationError, type CreatedLead } from '@lead-service/sdk/website';

const url = process.env.SERVICE_URL!;
const created: CreatedLead = await submitLead({ name: 'Packed', email: process.env.EMAIL!, company: 'Tarball Ltd' }, { baseUrl: url });
const cms = createLeadClient({ url, token: process.env.TOKEN });
const lead: LeadDetail = await cms.leads.get.query({ lead_id: created.id });
const closedAt: Date | null = (await cms.leads.updateStatus.mutate({ lead_id: lead.id, status: 'closed_lost', lost_reason: 'price' })).closed_at;
let validation = '';
try {
  await submitLead({ name: 'x', email: 'not-an-email' }, { baseUrl: url });
} catch (error) {
  if (error instanceof LeadValidationError) validation = error.issues.map((i) => i.path.join('.')).join(',');
}
let missing = 0;
try {
  await cms.leads.get.query({ lead_id: '00000000-0000-4000-8000-000000000000' });
} catch (error) {
  if (error instanceof LeadApiError) missing = error.status ?? 0;
}
console.log(JSON.stringify({ id: lead.id, company: lead.company, created: created.created_at instanceof Date, closed: closedAt instanceof Date, validation, missing }));
`;

/** The same code with a typo in a field name: the published types must catch it. */
const TYPO = `
import { submitLead } from '@lead-service/sdk/website';
import { createLeadClient } from '@lead-service/sdk';
await submitLead({ name: 'Typo', emial: 'a@example.com' }, { baseUrl: 'http://localhost' });
await createLeadClient({ url: 'http://localhost' }).leads.list.query({ stauts: 'new' });
`;

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
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          `./${tarball}`,
          'typescript@5.9.3',
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
    expect(JSON.stringify(manifest.dependencies)).not.toMatch(/catalog:|workspace:/);
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
    ]);
  });

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
