import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Without AUTH_JWT_SECRET outside production, the service signs and verifies with a secret kept
 * in the (git-ignored) data folder, made on first use; `pnpm token` reads the same file.
 */
export async function devJwtSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, 'dev-jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dataDir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(() => {});
    return (await readFile(file, 'utf8')).trim();
  }
}
