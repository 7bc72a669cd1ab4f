import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pino, type LoggerOptions } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../src/logger.js';

/**
 * The logger's redaction is the safety net should any code log an object holding lead data.
 * pino redacts with @pinojs/redact, which the service patches (patches/@pinojs__redact@0.4.0.patch,
 * pnpm-workspace.yaml) to parse the paths once instead of on every line; these tests hold the
 * patched redactor to censoring every path as before, so a patch that redacts less, or an upgrade
 * that drops it, fails here.
 */
function logged(write: (log: pino.Logger) => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const log = pino(loggerOptions({ LOG_LEVEL: 'INFO' }) as LoggerOptions, stream);
  write(log);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

const lead = {
  name: 'Zebulon Quixote-Marchetti',
  email: 'zq.marchetti@personal-mail.example',
  phone: '+44 20 7946 0958',
  company: 'Quixote Holdings',
  message: 'Please call me about Bluebird',
  notes: 'Spoke to Zebulon at home',
  description: '12 Larkspur Lane',
  status: 'new',
};

describe('the request log redaction', () => {
  it('runs the patched redactor', () => {
    const redact = createRequire(createRequire(import.meta.url).resolve('pino')).resolve('@pinojs/redact');
    expect(readFileSync(redact, 'utf8')).toContain('Patched by the lead service');
  });

  it('censors every personal field of a logged object, line after line, and nothing else', () => {
    const [first, second, third] = logged((log) => {
      log.info({ lead, input: { email: lead.email }, count: 3, ok: true }, 'a lead');
      log.info({ created: { ...lead, id: 'lead-1' }, body: 'raw body', summary: 'plain text' }, 'again');
      log.info({ call: { path: 'leads.get', input: { id: 'x', email: lead.email }, body: 'sid=1' } }, 'nested');
    });
    const censored = Object.fromEntries(
      ['name', 'email', 'phone', 'company', 'message', 'notes', 'description'].map((k) => [k, '[redacted]']),
    );
    expect(first).toMatchObject({ lead: { ...censored, status: 'new' }, input: '[redacted]', count: 3, ok: true, msg: 'a lead' });
    expect(second).toMatchObject({ created: { ...censored, id: 'lead-1', status: 'new' }, body: '[redacted]', summary: 'plain text' });
    expect(third).toMatchObject({ call: { path: 'leads.get', input: '[redacted]', body: '[redacted]' } });
    expect(JSON.stringify([first, second, third])).not.toMatch(/Zebulon|marchetti|7946|Quixote|Bluebird|Larkspur|sid=1/);
    // Redaction works on a copy: the caller's object is left as it was.
    expect(lead.email).toBe('zq.marchetti@personal-mail.example');
  });

  it('leaves values that are not objects as they are', () => {
    const [line] = logged((log) =>
      log.info({ responseTime: 1.5, name: 'top-level strings are not lead fields', nothing: null, flag: false }, 'done'),
    );
    expect(line).toMatchObject({
      responseTime: 1.5,
      name: 'top-level strings are not lead fields',
      nothing: null,
      flag: false,
      msg: 'done',
    });
  });
});
