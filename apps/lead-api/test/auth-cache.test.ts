import { jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthenticator, type AuthOptions } from '../src/auth.js';
import { ADMIN_ID, TEST_SECRET } from './support/app.js';

// The real jose, watched: each call of `jwtVerify` is one signature check the cache did not save.
vi.mock('jose', async (importOriginal) => {
  const jose = await importOriginal<typeof import('jose')>();
  return { ...jose, jwtVerify: vi.fn(jose.jwtVerify) };
});
const verifications = vi.mocked(jwtVerify);

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const seconds = (s: number) => s * 1000;
const at = (ms: number) => vi.setSystemTime(T0 + ms);

const sign = (claims: { role?: string; sub?: string; exp?: number; nbf?: number; jti?: string } = {}) => {
  const jwt = new SignJWT({ role: claims.role ?? 'admin', ...(claims.jti ? { jti: claims.jti } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? ADMIN_ID)
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 3600);
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  return jwt.sign(new TextEncoder().encode(TEST_SECRET));
};

const authenticator = (tokenCache?: AuthOptions['tokenCache']) => createAuthenticator({ secret: TEST_SECRET, tokenCache });
const bearer = (token: string) => `Bearer ${token}`;

beforeEach(() => {
  // Only the clock is fake: WebCrypto and promises run as usual.
  vi.useFakeTimers({ toFake: ['Date'] });
  at(0);
  verifications.mockClear();
});
afterEach(() => vi.useRealTimers());

describe('verified-token cache', () => {
  it('checks a token once within the TTL, and hands back the same user', async () => {
    const auth = authenticator({ ttlMs: seconds(30) });
    const token = await sign();
    const first = await auth.authenticate(bearer(token));
    expect(first).toEqual({ id: ADMIN_ID, role: 'admin' });
    at(seconds(29));
    expect(await auth.authenticate(bearer(token))).toBe(first);
    expect(verifications).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('checks the token again once the TTL is over', async () => {
    const auth = authenticator({ ttlMs: seconds(30) });
    const token = await sign();
    await auth.authenticate(bearer(token));
    at(seconds(30));
    await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('never keeps an entry past the token’s exp, however long the TTL', async () => {
    const auth = authenticator({ ttlMs: seconds(300) });
    const token = await sign({ exp: (T0 + seconds(10)) / 1000 });
    await auth.authenticate(bearer(token));
    at(seconds(9));
    await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(1);
    // Past exp but within the 5 s clock tolerance: jose still accepts it, but only by checking it again.
    at(seconds(11));
    expect(await auth.authenticate(bearer(token))).toEqual({ id: ADMIN_ID, role: 'admin' });
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('refuses an expired token even though it was cached', async () => {
    const auth = authenticator({ ttlMs: seconds(300) });
    const token = await sign({ exp: (T0 + seconds(10)) / 1000 });
    await auth.authenticate(bearer(token));
    at(seconds(16));
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'Token expired' });
  });

  it('does not keep a token accepted only thanks to the clock tolerance', async () => {
    const auth = authenticator({ ttlMs: seconds(30) });
    const token = await sign({ exp: (T0 - seconds(2)) / 1000 });
    await auth.authenticate(bearer(token));
    await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('checks every other token on its own: a tampered copy of a cached token is refused', async () => {
    const auth = authenticator({ ttlMs: seconds(30) });
    const token = await sign();
    await auth.authenticate(bearer(token));
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const otherSub = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: '22222222-2222-4222-8222-222222222222' }),
    ).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    for (const forged of [`${header}.${otherSub}.${signature}`, `${header}.${payload}.${flipped}`]) {
      await expect(auth.authenticate(bearer(forged))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    }
    const cms = await sign({ role: 'cms' });
    expect(await auth.authenticate(bearer(cms))).toEqual({ id: ADMIN_ID, role: 'cms' });
    expect(verifications).toHaveBeenCalledTimes(4);
  });

  it('never remembers a failure: a token refused as not yet valid is accepted once it is', async () => {
    const auth = authenticator({ ttlMs: seconds(30) });
    const token = await sign({ nbf: (T0 + seconds(60)) / 1000 });
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(verifications).toHaveBeenCalledTimes(2);
    at(seconds(60));
    expect(await auth.authenticate(bearer(token))).toEqual({ id: ADMIN_ID, role: 'admin' });
  });

  it('keeps a bounded number of tokens, dropping the least recently used', async () => {
    const auth = authenticator({ ttlMs: seconds(30), maxEntries: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((jti) => sign({ jti })));
    for (const token of [a!, b!, a!, c!]) await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(3);
    await auth.authenticate(bearer(a!));
    expect(verifications).toHaveBeenCalledTimes(3);
    await auth.authenticate(bearer(b!));
    expect(verifications).toHaveBeenCalledTimes(4);
  });

  it('is off with a TTL of 0', async () => {
    const auth = authenticator({ ttlMs: 0 });
    const token = await sign();
    await auth.authenticate(bearer(token));
    await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(2);
  });

  it('is on by default, for 30 seconds', async () => {
    const auth = authenticator();
    const token = await sign();
    await auth.authenticate(bearer(token));
    at(seconds(29));
    await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(1);
    at(seconds(30));
    await auth.authenticate(bearer(token));
    expect(verifications).toHaveBeenCalledTimes(2);
  });
});
