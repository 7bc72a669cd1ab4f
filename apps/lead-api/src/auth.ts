import { TRPCError } from '@trpc/server';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

export interface User {
  /** The user id in the auth service. */
  id: string;
  /** Null when the token names no role: authenticated, but allowed nothing (403). */
  role: string | null;
}

const Claims = z.object({ sub: z.uuid(), role: z.string().min(1).nullish(), exp: z.number() });

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** Asymmetric algorithms accepted from the auth service's key set. */
const JWKS_ALGORITHMS = ['RS256', 'ES256'];
/** Seconds of clock difference with the token issuer accepted on `exp`, `nbf` and `iat`. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** How long a verified token is remembered by default; see `AuthOptions.tokenCache`. */
export const TOKEN_CACHE_TTL_MS = 30_000;
/**
 * Distinct tokens remembered at once. Only tokens with a valid signature get in, so the set is
 * as large as the number of live sessions calling within the TTL, not something a caller can
 * inflate; the least recently used goes first.
 */
const TOKEN_CACHE_MAX_ENTRIES = 1_000;

const unauthorized = (message: string) => new TRPCError({ code: 'UNAUTHORIZED', message });

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<User>;
}

export interface AuthOptions {
  /** HS256 shared secret: local use and tests. */
  secret?: string;
  /** The auth service's JSON Web Key Set (RS256 and ES256 keys). */
  jwksUrl?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud`, when set. */
  audience?: string;
  /**
   * Key-set caching (jose's defaults otherwise): the set is fetched on first use, kept for
   * `cacheMaxAgeMs`, and fetched again when a token names an unknown `kid`, at most once per
   * `cooldownMs`, so a rotated key is picked up without a restart.
   */
  jwks?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
  /**
   * Successfully verified tokens are remembered, so the requests of one session within `ttlMs`
   * pay for one signature check (WebCrypto, a few percent of an admin request's CPU) instead of
   * one each. An entry lasts `ttlMs` (default 30 s; 0 turns the cache off) and never past the
   * token's own `exp`. Failures are never remembered.
   *
   * The price: a token verified before its key is retired, or before the auth service is told
   * to stop trusting it, stays accepted until its entry ends, i.e. at most `ttlMs` longer.
   * (Without the cache a retired JWKS key already lives on until the key set is fetched again.)
   */
  tokenCache?: { ttlMs?: number; maxEntries?: number };
}

interface CachedUser {
  user: User;
  /** Epoch milliseconds: the earlier of the token's `exp` and the end of the cache TTL. */
  expiresAt: number;
}

/** The key set could not be fetched: not the caller's fault, so not a 401. */
class KeySetUnavailable extends Error {}

/**
 * Bearer tokens: signature, `exp`, a UUID `sub`, the `role` if any, and `iss`/`aud` when configured.
 * Each algorithm is tied to the one kind of key it was made for: HS256 only ever verifies
 * against the shared secret, RS256/ES256 only against the key set, so a token "signed" with
 * HS256 using a public key (algorithm confusion) is refused, as is `alg: none`.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  // Imported once: given raw bytes, jose imports the key through WebCrypto on every verification.
  const secret = options.secret
    ? crypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : undefined;
  const keySet = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), {
        ...(options.jwks?.cooldownMs !== undefined ? { cooldownDuration: options.jwks.cooldownMs } : {}),
        ...(options.jwks?.cacheMaxAgeMs !== undefined ? { cacheMaxAge: options.jwks.cacheMaxAgeMs } : {}),
        ...(options.jwks?.timeoutMs !== undefined ? { timeoutDuration: options.jwks.timeoutMs } : {}),
      })
    : undefined;
  const algorithms = [...(secret ? ['HS256'] : []), ...(keySet ? JWKS_ALGORITHMS : [])];
  if (algorithms.length === 0) throw new Error('Authentication needs a secret or a JWKS URL');

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (keySet && JWKS_ALGORITHMS.includes(header.alg ?? '')) {
      try {
        return await keySet(header, token);
      } catch (error) {
        if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
        throw new KeySetUnavailable('The key set could not be fetched', { cause: error });
      }
    }
    throw new joseErrors.JOSEAlgNotAllowed('algorithm not allowed');
  };

  const cacheTtlMs = options.tokenCache?.ttlMs ?? TOKEN_CACHE_TTL_MS;
  // Keyed by the whole token: any other token, however similar, is verified on its own.
  const verified =
    cacheTtlMs > 0 ? new LRUCache<string, CachedUser>({ max: options.tokenCache?.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES }) : undefined;

  return {
    async authenticate(authorization) {
      if (!authorization) throw unauthorized('Missing bearer token');
      const token = BEARER.exec(authorization.trim())?.[1];
      if (!token) throw unauthorized('Authorization must be "Bearer <JWT>"');
      const hit = verified?.get(token);
      if (hit) {
        // On the wall clock, as `exp` is; lru-cache only bounds the number of entries.
        if (Date.now() < hit.expiresAt) return hit.user;
        verified?.delete(token);
      }
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          ...(options.issuer ? { issuer: options.issuer } : {}),
          ...(options.audience ? { audience: options.audience } : {}),
        }));
      } catch (error) {
        if (error instanceof KeySetUnavailable) {
          throw new TRPCError({
            code: 'SERVICE_UNAVAILABLE',
            message: 'Tokens cannot be verified right now, try again shortly',
            cause: error,
          });
        }
        if (error instanceof joseErrors.JWTExpired) throw unauthorized('Token expired');
        throw unauthorized('Invalid token');
      }
      const claims = Claims.safeParse(payload);
      if (!claims.success) throw unauthorized('Token must carry a UUID `sub`, and `role` must be a string');
      // Frozen: one cached object is handed to every request that presents the token.
      const user: User = Object.freeze({ id: claims.data.sub, role: claims.data.role ?? null });
      if (verified) {
        const now = Date.now();
        const expiresAt = Math.min(claims.data.exp * 1000, now + cacheTtlMs);
        // A token accepted only thanks to the clock tolerance (already past `exp`) is not kept.
        if (expiresAt > now) verified.set(token, { user, expiresAt });
      }
      return user;
    },
  };
}

/** HS256 only, with a shared secret. */
export const hs256Authenticator = (secret: string): Authenticator => createAuthenticator({ secret });

export async function signDevToken(
  secret: string,
  user: { id: string; role: string },
  ttlSeconds = 8 * 3600,
  claims: { issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ role: user.role });
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
