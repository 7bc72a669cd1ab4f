import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAIN } from './support/service.js';

const PROBE = fileURLToPath(new URL('./support/pretenuring-probe.mjs', import.meta.url));

/** Runs node with the probe and `args`: its exit code, and the young generation's bytes the probe's objects took. */
async function probe(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; young: number }> {
  const child = spawn(process.execPath, ['--expose-gc', `--import=${PROBE}`, ...args], { env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = stderr.split('\n').find((l) => l.startsWith('{"pretenuring"'));
  if (!line) throw new Error(`the probe did not report:\n${stderr}`);
  return { code, young: (JSON.parse(line) as { pretenuring: { young: number } }).pretenuring.young };
}

// The probe's 2,000 objects take ~290 KB of the young generation (Node 20), ~80 KB of it when
// V8 pretenures their allocation site.
describe("V8's allocation-site pretenuring (src/ops/v8-flags.ts)", () => {
  it('pretenures a site whose objects all survive, in a bare node: what the probe detects', async () => {
    expect((await probe(['-e', ''])).young).toBeLessThan(150_000);
  });

  it('is off in the built service, whichever way node started it', async () => {
    // A bad setting stops start-up at once, after the service's first module has run.
    const service = await probe([MAIN], { PORT: 'eighty' });
    expect(service.code).toBe(1);
    expect(service.young).toBeGreaterThan(250_000);
  });
});
