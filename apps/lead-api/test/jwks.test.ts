import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/auth.js';
import { ADMIN_ID, startTestApp, TEST_SECRET, type TestApp } from './support/app.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'lead-service';
const COOLDOWN_MS = 300;

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string, alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** The auth service's key set, served over real HTTP on loopback; `keys` can be rotated at will. */
let published: SigningKey[] = [];
let fetches = 0;
let jwksServer: Server;
let jwksUrl: string;

let t: TestApp;
let rsa: SigningKey;
let ec: SigningKey;
const settle = () => new Promise((r) => setTimeout(r, COOLDOWN_MS + 50));

beforeAll(async () => {
  rsa = await newKey('rsa-1', 'RS256');
  ec = await newKey('ec-1', 'ES256');
  published = [rsa, ec];
  jwksServer = createServer((req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/.well-known/jwks.json`;
  t = await startTestApp({
    auth: createAuthenticator({
      secret: TEST_SECRET,
      jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { cooldownMs: COOLDOWN_MS, timeoutMs: 2000 },
    }),
  });
});
// Resolves whether or not a test already stopped it.
afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

interface TokenOptions {
  role?: string;
  iss?: string | null;
  aud?: string | null;
  exp?: number;
  nbf?: number;
  kid?: string;
  alg?: string;
  /** Makes the token one this service has never seen (RS256 signatures are deterministic). */
  jti?: string;
}

function claims(jwt: SignJWT, o: TokenOptions) {
  jwt
    .setSubject(ADMIN_ID)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 600);
  if (o.iss !== null) jwt.setIssuer(o.iss ?? ISSUER);
  if (o.aud !== null) jwt.setAudience(o.aud ?? AUDIENCE);
  if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
  if (o.jti !== undefined) jwt.setJti(o.jti);
  return jwt;
}

const signWith = (key: SigningKey, o: TokenOptions = {}) =>
  claims(new SignJWT({ role: o.role ?? 'admin' }), o)
    .setProtectedHeader({ alg: o.alg ?? key.alg, kid: o.kid ?? key.kid })
    .sign(key.privateKey);

const list = (token: string) => t.rest('GET', '/api/v1/leads', { token });
const now = () => Math.floor(Date.now() / 1000);

describe('tokens from the auth service, verified with its JWKS', () => {
  it('accepts RS256 and ES256 tokens signed by a published key', async () => {
    expect((await list(await signWith(rsa))).status).toBe(200);
    expect((await list(await signWith(ec))).status).toBe(200);
  });

  it('still accepts HS256 with the shared secret, under the same issuer and audience rules', async () => {
    const hs = (o: TokenOptions) =>
      claims(new SignJWT({ role: 'admin' }), o)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await list(await hs({}))).status).toBe(200);
    expect((await list(await hs({ iss: null }))).status).toBe(401);
  });

  it('picks up a rotated key without a restart, and refuses the retired one', async () => {
    const before = fetches;
    // A token not verified before: one that was is served from the token cache until its entry
    // ends (the next test).
    const retired = await signWith(rsa, { jti: randomUUID() });
    const rotated = await newKey('rsa-2', 'RS256');
    published = [rotated, ec];
    await settle();

    expect((await list(await signWith(rotated))).status).toBe(200);
    expect(fetches).toBe(before + 1);
    await settle();
    const res = await list(retired);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
    rsa = rotated;
  });

  it('accepts a token verified before its key was retired only until its cache entry ends', async () => {
    const ttlMs = 1500;
    const auth = createAuthenticator({
      jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { cooldownMs: COOLDOWN_MS },
      tokenCache: { ttlMs },
    });
    const leaving = await newKey('rsa-leaving', 'RS256');
    const next = await newKey('rsa-next', 'RS256');
    published = [rsa, ec, leaving];
    const seen = await signWith(leaving);
    const verifiedAt = Date.now();
    expect(await auth.authenticate(`Bearer ${seen}`)).toEqual({ id: ADMIN_ID, role: 'admin' });

    published = [rsa, ec, next];
    await settle();
    // An unknown kid makes the service fetch the set again: from now on `leaving` is gone.
    await auth.authenticate(`Bearer ${await signWith(next)}`);
    await expect(auth.authenticate(`Bearer ${await signWith(leaving, { jti: randomUUID() })}`)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(Date.now() - verifiedAt).toBeLessThan(ttlMs);
    expect(await auth.authenticate(`Bearer ${seen}`)).toEqual({ id: ADMIN_ID, role: 'admin' });

    await new Promise((r) => setTimeout(r, ttlMs - (Date.now() - verifiedAt) + 50));
    await expect(auth.authenticate(`Bearer ${seen}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    published = [rsa, ec];
  });

  it('fetches the key set at most once per cooldown, however many unknown key ids arrive', async () => {
    await settle();
    const before = fetches;
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await list(await signWith(rsa, { kid: `unknown-${i}` }))).status),
    );
    expect(statuses).toEqual(Array(10).fill(401));
    expect(fetches - before).toBeLessThanOrEqual(1);
  });

  it('refuses HS256 "signed" with the public key (algorithm confusion)', async () => {
    const pem = await exportSPKI(rsa.publicKey);
    for (const secret of [pem, JSON.stringify(rsa.jwk), rsa.jwk.n!]) {
      const token = await claims(new SignJWT({ role: 'admin' }), {})
        .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
        .sign(new TextEncoder().encode(secret));
      expect((await list(token)).status).toBe(401);
    }
  });

  it('refuses HS256 altogether when only a JWKS is configured', async () => {
    const jwksOnly = await startTestApp({ auth: createAuthenticator({ jwksUrl }) });
    const hs = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(ADMIN_ID)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await jwksOnly.rest('GET', '/api/v1/leads', { token: hs })).status).toBe(401);
    const rs = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
      .setSubject(ADMIN_ID)
      .setExpirationTime('1h')
      .sign(rsa.privateKey);
    expect((await jwksOnly.rest('GET', '/api/v1/leads', { token: rs })).status).toBe(200);
  });

  it('refuses algorithms other than RS256/ES256, and signatures by unpublished keys', async () => {
    for (const alg of ['RS384', 'PS256', 'ES384']) {
      const { privateKey } = await generateKeyPair(alg);
      const token = await claims(new SignJWT({ role: 'admin' }), {})
        .setProtectedHeader({ alg, kid: rsa.kid })
        .sign(privateKey);
      expect((await list(token)).status).toBe(401);
    }
    const impostor = await newKey(rsa.kid, 'RS256');
    expect((await list(await signWith(impostor))).status).toBe(401);
    // An ES256 header naming the RSA key finds no key of that type.
    expect((await list(await signWith(ec, { kid: rsa.kid }))).status).toBe(401);
  });

  it('enforces the issuer and the audience', async () => {
    expect((await list(await signWith(rsa, { iss: 'https://evil.example' }))).status).toBe(401);
    expect((await list(await signWith(rsa, { iss: null }))).status).toBe(401);
    expect((await list(await signWith(rsa, { aud: 'another-service' }))).status).toBe(401);
    expect((await list(await signWith(rsa, { aud: null }))).status).toBe(401);
  });

  it('tolerates a few seconds of clock skew, and no more', async () => {
    expect((await list(await signWith(rsa, { exp: now() - 2 }))).status).toBe(200);
    expect((await list(await signWith(rsa, { exp: now() - 30 }))).status).toBe(401);
    expect((await list(await signWith(rsa, { nbf: now() + 2 }))).status).toBe(200);
    expect((await list(await signWith(rsa, { nbf: now() + 60 }))).status).toBe(401);
  });

  it('roles come from the token: a JWKS token of another role is refused with 403', async () => {
    expect((await list(await signWith(rsa, { role: 'cms' }))).status).toBe(200);
    expect((await list(await signWith(rsa, { role: 'visitor' }))).status).toBe(403);
  });

  it('answers 503 when an unknown key cannot be looked up, and keeps serving known keys', async () => {
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
    jwksServer.closeAllConnections();
    await settle();
    const res = await list(await signWith(await newKey('rsa-3', 'RS256')));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
    expect((await list(await signWith(rsa))).status).toBe(200);
  });
});
