import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { waitUntil } from './wait.js';

/** The built service, as deployed: `npx tsup` before the tests that spawn it. */
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/;

export interface Service {
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Its exit code once it has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Its address once it listens; fails with its output if it exits or does not listen in time. */
  url(): Promise<string>;
  /** Sends `signal` unless it has exited already, and resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServiceOptions {
  /** Variables of the test process's environment not passed on, besides DATABASE_URL. */
  unset?: string[];
  /** How long `url()` waits. Generous: PGlite's first start takes ~5 s on a quiet machine but over 30 s on a loaded one. */
  startTimeoutMs?: number;
}

/**
 * What `spawnService` started in this test file, killed after the file's tests if still running.
 * The hook is registered as the file imports this module, as test/support/app.ts does for apps.
 */
const spawned: Service[] = [];
afterAll(async () => stopServices('SIGKILL'));

/** Stops every service this test file spawned that still runs, and waits for each to exit. */
export async function stopServices(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  for (const service of spawned.splice(0)) await service.stop(signal);
}

/**
 * dist/main.js in a process of its own, on 127.0.0.1 and a port the system picks, with the test
 * process's environment (never its DATABASE_URL) overridden by `env`.
 */
export function spawnService(env: Record<string, string>, options: ServiceOptions = {}): Service {
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', ...(options.unset ?? [])]) delete inherited[name];
  const child = spawn(process.execPath, [MAIN], { env: { ...inherited, HOST: '127.0.0.1', PORT: '0', ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const service: Service = {
    child,
    output: () => output,
    exited,
    async url() {
      const listening = await waitUntil(
        'the service listens',
        () => LISTENING.exec(output)?.[1] ?? (running() ? undefined : ''),
        options.startTimeoutMs ?? 120_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}:\n${output}`);
      });
      if (!listening) throw new Error(`service exited before it listened:\n${output}`);
      return listening;
    },
    async stop(signal = 'SIGTERM') {
      if (running()) child.kill(signal);
      return exited;
    },
  };
  spawned.push(service);
  return service;
}
