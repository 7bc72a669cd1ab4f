import { TRPCError } from '@trpc/server';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';

export interface User {
  /** The user id in the auth service. */
  id: string;
  /** Null when the token names no role: authenticated, but allowed nothing (403). */
  role: string | null;
}

const Claims = z.object({ sub: z.uuid(), role: z.string().min(1).nullish() });

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** Asymmetric algorithms accepted from the auth service's key set. */
const JWKS_ALGORITHMS = ['RS256', 'ES256'];
/** Seconds of clock difference with the token issuer accepted on `exp`, `nbf` and `iat`. */
const CLOCK_TOLERANCE_SECONDS = 5;

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

  return {
    async authenticate(authorization) {
      if (!authorization) throw unauthorized('Missing bearer token');
      const token = BEARER.exec(authorization.trim())?.[1];
      if (!token) throw unauthorized('Authorization must be "Bearer <JWT>"');
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
          throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Tokens cannot be verified right now, try again shortly', cause: error });
        }
        if (error instanceof joseErrors.JWTExpired) throw unauthorized('Token expired');
        throw unauthorized('Invalid token');
      }
      const claims = Claims.safeParse(payload);
      if (!claims.success) throw unauthorized('Token must carry a UUID `sub`, and `role` must be a string');
      return { id: claims.data.sub, role: claims.data.role ?? null };
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
