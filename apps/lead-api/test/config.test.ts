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
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'AUTH_JWT_SECRET',
      'DATABASE_URL',
      'LOG_LEVEL',
      'MIGRATE_ON_START',
      'PORT',
    ]);
  });

  it('requires a database and a signing secret in production', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL: is required[\s\S]*AUTH_JWT_SECRET: is required/);
  });

  it('requires an erasure hash secret of its own in production, and reads REQUIRE_CONSENT', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/leads', AUTH_JWT_SECRET: 'a'.repeat(32) };
    expect(() => parseEnv(production)).toThrow(/ERASURE_HASH_SECRET: is required when NODE_ENV=production/);
    expect(() => parseEnv({ ERASURE_HASH_SECRET: 'short' })).toThrow(/ERASURE_HASH_SECRET: must be at least 32 characters/);
    expect(parseEnv({ ...production, ERASURE_HASH_SECRET: 'e'.repeat(32) }).ERASURE_HASH_SECRET).toBe('e'.repeat(32));
    expect(parseEnv({}).REQUIRE_CONSENT).toBe(false);
    expect(parseEnv({ REQUIRE_CONSENT: 'true' }).REQUIRE_CONSENT).toBe(true);
    expect(() => parseEnv({ REQUIRE_CONSENT: 'yes' })).toThrow(/REQUIRE_CONSENT: must be true or false/);
  });

  it('reads the auth service settings, and takes its JWKS instead of a secret in production', () => {
    const auth = {
      AUTH_JWKS_URL: 'https://auth.example/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://auth.example',
      AUTH_JWT_AUDIENCE: 'lead-service',
    };
    expect(parseEnv(auth)).toMatchObject(auth);
    expect(() =>
      parseEnv({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/leads', ERASURE_HASH_SECRET: 'e'.repeat(32), ...auth }),
    ).not.toThrow();
    expect(() => parseEnv({ AUTH_JWKS_URL: 'file:///etc/keys.json' })).toThrow(/AUTH_JWKS_URL: must be an http\(s\) URL/);
  });

  it('remembers verified tokens for 30 s unless told otherwise; 0 turns that off, and 5 minutes is the most', () => {
    expect(parseEnv({}).AUTH_TOKEN_CACHE_TTL_MS).toBe(30_000);
    expect(parseEnv({ AUTH_TOKEN_CACHE_TTL_MS: '0' }).AUTH_TOKEN_CACHE_TTL_MS).toBe(0);
    expect(parseEnv({ AUTH_TOKEN_CACHE_TTL_MS: '300000' }).AUTH_TOKEN_CACHE_TTL_MS).toBe(300_000);
    expect(() => parseEnv({ AUTH_TOKEN_CACHE_TTL_MS: '300001' })).toThrow(/AUTH_TOKEN_CACHE_TTL_MS: must be at most 300000/);
    expect(() => parseEnv({ AUTH_TOKEN_CACHE_TTL_MS: '-1' })).toThrow(/AUTH_TOKEN_CACHE_TTL_MS/);
  });

  it('treats empty variables as unset', () => {
    const env = parseEnv({ PORT: '', DATABASE_URL: '' });
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
  });
});

describe('abuse protection settings', () => {
  it('defaults to 10 creates an hour, 600 admin requests a minute, and trusting no proxy', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ RATE_LIMIT_CREATE_PER_HOUR: 10, RATE_LIMIT_ADMIN_PER_MINUTE: 600 });
    expect(env.TRUST_PROXY).toBeUndefined();
  });

  it('reads TRUST_PROXY as a hop count or a list of addresses and CIDRs', () => {
    expect(parseEnv({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(parseEnv({ TRUST_PROXY: '127.0.0.1/8, 10.0.0.0/8,::1,fd00::/8,loopback' }).TRUST_PROXY).toEqual([
      '127.0.0.1/8',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
  });

  it('refuses what is neither, and limits that are not positive whole numbers', () => {
    expect(() => parseEnv({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: must be a hop count or a comma-separated list .*"true"/);
    expect(() => parseEnv({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
    expect(() => parseEnv({ RATE_LIMIT_CREATE_PER_HOUR: '0' })).toThrow(/RATE_LIMIT_CREATE_PER_HOUR/);
    expect(() => parseEnv({ RATE_LIMIT_ADMIN_PER_MINUTE: 'lots' })).toThrow(/RATE_LIMIT_ADMIN_PER_MINUTE: must be a whole number/);
    expect(() => parseEnv({ RATE_LIMIT_KEY_PREFIX: 'has space' })).toThrow(/RATE_LIMIT_KEY_PREFIX/);
  });

  it('leaves the lead retention rules off unless set, keeps payloads 30 days and audit rows two years, runs hourly', () => {
    const defaults = parseEnv({});
    expect(defaults.RETENTION_CLOSED_DAYS).toBeUndefined();
    expect(defaults.RETENTION_INACTIVE_DAYS).toBeUndefined();
    expect(defaults).toMatchObject({
      EVENT_PAYLOAD_RETENTION_DAYS: 30,
      AUDIT_RETENTION_DAYS: 730,
      RETENTION_INTERVAL_MS: 3_600_000,
      RETENTION_BATCH_SIZE: 500,
    });
    expect(parseEnv({ RETENTION_CLOSED_DAYS: '365', RETENTION_INACTIVE_DAYS: '180' })).toMatchObject({
      RETENTION_CLOSED_DAYS: 365,
      RETENTION_INACTIVE_DAYS: 180,
    });
    expect(() => parseEnv({ RETENTION_CLOSED_DAYS: '0' })).toThrow(/RETENTION_CLOSED_DAYS/);
    expect(() => parseEnv({ RETENTION_INACTIVE_DAYS: 'a year' })).toThrow(/RETENTION_INACTIVE_DAYS: must be a whole number of days/);
    // The database refuses to drop audit rows younger than 90 days: so does the configuration.
    expect(() => parseEnv({ AUDIT_RETENTION_DAYS: '89' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(() => parseEnv({ RETENTION_INTERVAL_MS: '999' })).toThrow(/RETENTION_INTERVAL_MS/);
    expect(() => parseEnv({ RETENTION_INTERVAL_MS: '86400001' })).toThrow(/RETENTION_INTERVAL_MS: must be at most 86400000/);
    expect(() => parseEnv({ RETENTION_BATCH_SIZE: '0' })).toThrow(/RETENTION_BATCH_SIZE/);
    expect(parseEnv({}).RETENTION_CONCURRENCY).toBe(2);
    expect(() => parseEnv({ RETENTION_CONCURRENCY: '4', DB_POOL_MAX: '4' })).toThrow(
      /RETENTION_CONCURRENCY: must be smaller than DB_POOL_MAX/,
    );
  });
});
