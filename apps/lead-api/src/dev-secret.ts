import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Without AUTH_JWT_SECRET outside production, the service signs and verifies with a secret kept
 * in the (git-ignored) data folder, made on first use; `pnpm token` reads the same file.
 */
export const devJwtSecret = (dataDir: string): Promise<string> => devSecret(dataDir, 'dev-jwt-secret');

/**
 * Without ERASURE_HASH_SECRET outside production, erasure records are keyed with a secret of
 * their own in the data folder (never one derived from the token secret, which may rotate).
 */
export const devErasureHashSecret = (dataDir: string): Promise<string> => devSecret(dataDir, 'dev-erasure-hash-secret');

/** A random secret kept in `dataDir/name`, made on first use. */
async function devSecret(dataDir: string, name: string): Promise<string> {
  const file = join(dataDir, name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dataDir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(() => {});
    return (await readFile(file, 'utf8')).trim();
  }
}
