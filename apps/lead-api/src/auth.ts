import { TRPCError } from '@trpc/server';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

export interface User {
  /** The user id in the auth service. */
  id: string;
  role: string;
}

const Claims = z.object({ sub: z.uuid(), role: z.string().min(1) });

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

const unauthorized = (message: string) => new TRPCError({ code: 'UNAUTHORIZED', message });

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<User>;
}

/** HS256 bearer tokens signed with a shared secret: signature, `exp`, a UUID `sub` and a `role`. */
export function hs256Authenticator(secret: string): Authenticator {
  // Imported once: given raw bytes, jose imports the key again on every verification.
  const key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  return {
    async authenticate(authorization) {
      if (!authorization) throw unauthorized('Missing bearer token');
      const token = BEARER.exec(authorization.trim())?.[1];
      if (!token) throw unauthorized('Authorization must be "Bearer <JWT>"');
      let payload: unknown;
      try {
        // Pinning the algorithm refuses `alg: none` and any other algorithm.
        ({ payload } = await jwtVerify(token, await key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw unauthorized('Token expired');
        throw unauthorized('Invalid token');
      }
      const claims = Claims.safeParse(payload);
      if (!claims.success) throw unauthorized('Token must carry a UUID `sub` and a `role`');
      return { id: claims.data.sub, role: claims.data.role };
    },
  };
}

export async function signDevToken(secret: string, user: User, ttlSeconds = 8 * 3600): Promise<string> {
  return new SignJWT({ role: user.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
