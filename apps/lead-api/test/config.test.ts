import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../src/env.js';

describe('configuration', () => {
  it('has sane defaults', () => {
    expect(parseEnv({})).toMatchObject({ PORT: 3000, HOST: '0.0.0.0', LOG_LEVEL: 'INFO', MIGRATE_ON_START: true, BODY_LIMIT_BYTES: 65536 });
  });

  it('reads every variable', () => {
    const env = parseEnv({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u@db:5432/leads',
      REDIS_URL: 'redis://cache:6379',
      LOG_LEVEL: 'debug',
      NOTIFICATION_SERVICE_URL: 'http://notify:8000/events',
      AUTH_JWT_SECRET: 'x'.repeat(32),
      MIGRATE_ON_START: 'false',
    });
    expect(env).toMatchObject({ PORT: 8080, LOG_LEVEL: 'DEBUG', MIGRATE_ON_START: false, DATABASE_URL: 'postgres://u@db:5432/leads' });
  });

  it('reports one clear line per bad value', () => {
    let error: unknown;
    try {
      parseEnv({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', AUTH_JWT_SECRET: 'short', MIGRATE_ON_START: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['AUTH_JWT_SECRET', 'DATABASE_URL', 'LOG_LEVEL', 'MIGRATE_ON_START', 'PORT']);
  });

  it('requires a database and a signing secret in production', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL: is required[\s\S]*AUTH_JWT_SECRET: is required/);
  });

  it('reads the auth service settings, and takes its JWKS instead of a secret in production', () => {
    const auth = { AUTH_JWKS_URL: 'https://auth.example/.well-known/jwks.json', AUTH_JWT_ISSUER: 'https://auth.example', AUTH_JWT_AUDIENCE: 'lead-service' };
    expect(parseEnv(auth)).toMatchObject(auth);
    expect(() => parseEnv({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/leads', ...auth })).not.toThrow();
    expect(() => parseEnv({ AUTH_JWKS_URL: 'file:///etc/keys.json' })).toThrow(/AUTH_JWKS_URL: must be an http\(s\) URL/);
  });

  it('treats empty variables as unset', () => {
    const env = parseEnv({ PORT: '', DATABASE_URL: '' });
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
  });
});
