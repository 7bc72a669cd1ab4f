import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMITTED_OPENAPI_FILE } from '../src/openapi.js';

// What a third party's linters say about the COMMITTED document, with their own rule sets
// unchanged (the configs in ./openapi-lint only `extends` them): Redocly's `recommended` and
// Spectral's `spectral:oas`. Both run from node_modules, offline.

const require = createRequire(import.meta.url);
const binOf = (pkg: string, name: string) => {
  const manifest = require(`${pkg}/package.json`) as { bin: Record<string, string> };
  return join(dirname(require.resolve(`${pkg}/package.json`)), manifest.bin[name]!);
};
const config = (file: string) => fileURLToPath(new URL(`./openapi-lint/${file}`, import.meta.url));
const document = fileURLToPath(COMMITTED_OPENAPI_FILE);
// No telemetry or update checks: the tests run offline and must not wait on the network.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1' };

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Finding {
  tool: string;
  severity: string;
  rule: string;
  message: string;
  where: string;
}

async function redocly(file: string): Promise<Finding[]> {
  const { stdout, stderr } = await run([
    binOf('@redocly/cli', 'redocly'),
    'lint',
    '--config',
    config('redocly.yaml'),
    '--format',
    'json',
    file,
  ]);
  const json = stdout.slice(stdout.indexOf('{'));
  let report: {
    totals: { errors: number; warnings: number };
    problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
  };
  try {
    report = JSON.parse(json) as typeof report;
  } catch {
    throw new Error(`redocly gave no report:\n${stdout}\n${stderr}`);
  }
  const findings = report.problems.map((p) => ({
    tool: 'redocly',
    severity: p.severity,
    rule: p.ruleId,
    message: p.message,
    where: p.location[0]?.pointer ?? '',
  }));
  // The totals count what the problems list shows; a mismatch would mean a problem we cannot see.
  if (report.totals.errors + report.totals.warnings > findings.length) throw new Error(`redocly totals ${JSON.stringify(report.totals)}`);
  return findings;
}

async function spectral(file: string, outDir: string): Promise<Finding[]> {
  const out = join(outDir, `spectral-${Math.random().toString(36).slice(2)}.json`);
  const { stdout, stderr } = await run([
    binOf('@stoplight/spectral-cli', 'spectral'),
    'lint',
    '--ruleset',
    config('spectral.yaml'),
    '--format',
    'json',
    '--output',
    out,
    file,
  ]);
  const text = await readFile(out, 'utf8').catch(() => {
    throw new Error(`spectral gave no report:\n${stdout}\n${stderr}`);
  });
  const severities = ['error', 'warning', 'info', 'hint'];
  return (JSON.parse(text) as Array<{ code: string; severity: number; message: string; path: string[] }>).map((r) => ({
    tool: 'spectral',
    severity: severities[r.severity] ?? String(r.severity),
    rule: r.code,
    message: r.message,
    where: r.path.join('/'),
  }));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the committed openapi.json, linted as a third party would', () => {
  it("has no problem at all under Redocly's recommended rules", { timeout: 60_000 }, async () => {
    expect(await redocly(document)).toEqual([]);
  });

  it("has no problem at all under Spectral's spectral:oas rules", { timeout: 60_000 }, async () => {
    expect(await spectral(document, dir)).toEqual([]);
  });

  it('the linters do see problems when there are some', { timeout: 60_000 }, async () => {
    // The same document without a license and with a public operation that no longer says so.
    const doc = JSON.parse(await readFile(document, 'utf8')) as {
      info: Record<string, unknown>;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    delete doc.info.license;
    delete doc.info.contact;
    delete doc.paths['/health']!.get!.security;
    const broken = join(dir, 'broken.json');
    await writeFile(broken, JSON.stringify(doc));
    const [r, s] = await Promise.all([redocly(broken), spectral(broken, dir)]);
    expect(r.map((f) => f.rule)).toEqual(expect.arrayContaining(['info-license', 'security-defined']));
    expect(s.map((f) => f.rule)).toContain('info-contact');
  });
});
