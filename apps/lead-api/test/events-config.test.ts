import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../src/env.js';
import { dispatcherConfig } from '../src/events/dispatcher.js';

describe('event delivery configuration', () => {
  it('delivers nowhere without NOTIFICATION_SERVICE_URL, and with it uses the documented defaults', () => {
    expect(dispatcherConfig(parseEnv({}))).toBeNull();
    expect(dispatcherConfig(parseEnv({ NOTIFICATION_SERVICE_URL: 'http://notify:8000/events' }))).toEqual({
      url: 'http://notify:8000/events',
      timeoutMs: 10_000,
      pollIntervalMs: 500,
      batchSize: 50,
      leaseMs: 60_000,
      retryBaseMs: 1_000,
      retryMaxDelayMs: 900_000,
      maxAgeMs: 72 * 3600 * 1000,
      recoveryProbeMs: 5_000,
    });
  });

  it('reads every setting', () => {
    const config = dispatcherConfig(
      parseEnv({
        NOTIFICATION_SERVICE_URL: 'https://notify.example/events',
        NOTIFICATION_SIGNING_SECRET: 's'.repeat(32),
        EVENT_DELIVERY_TIMEOUT_MS: '2000',
        EVENT_LEASE_MS: '5000',
        EVENT_POLL_INTERVAL_MS: '250',
        EVENT_BATCH_SIZE: '10',
        EVENT_RETRY_BASE_MS: '100',
        EVENT_RETRY_MAX_DELAY_MS: '1000',
        EVENT_RETRY_MAX_AGE_SECONDS: '3600',
      }),
    );
    expect(config).toEqual({
      url: 'https://notify.example/events',
      signingSecret: 's'.repeat(32),
      timeoutMs: 2000,
      leaseMs: 5000,
      pollIntervalMs: 250,
      batchSize: 10,
      retryBaseMs: 100,
      retryMaxDelayMs: 1000,
      maxAgeMs: 3_600_000,
      recoveryProbeMs: 5_000,
    });
  });

  it('refuses a short signing secret, a non-http URL and a lease no longer than a delivery', () => {
    expect(() => parseEnv({ NOTIFICATION_SIGNING_SECRET: 'short' })).toThrow(/NOTIFICATION_SIGNING_SECRET: must be at least 32/);
    expect(() => parseEnv({ NOTIFICATION_SERVICE_URL: 'ftp://notify' })).toThrow(ConfigError);
    expect(() => parseEnv({ EVENT_BATCH_SIZE: 'many' })).toThrow(/EVENT_BATCH_SIZE/);
    expect(() => parseEnv({ EVENT_DELIVERY_TIMEOUT_MS: '5000', EVENT_LEASE_MS: '5000' })).toThrow(
      /EVENT_LEASE_MS: must be longer than EVENT_DELIVERY_TIMEOUT_MS/,
    );
  });
});
