// `pnpm -s token [--role admin|cms|sales] [--sub <uuid>] [--ttl <seconds>]`: prints a signed bearer token
// for local use, signed with AUTH_JWT_SECRET or the development secret the service uses.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { signDevToken } from '../auth.js';
import { devJwtSecret } from '../dev-secret.js';
import { loadEnv } from '../env.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'admin' },
    sub: { type: 'string', default: randomUUID() },
    ttl: { type: 'string', default: String(8 * 3600) },
  },
});
const env = loadEnv();
const secret = env.AUTH_JWT_SECRET ?? (await devJwtSecret(env.DATA_DIR));
const claims = { issuer: env.AUTH_JWT_ISSUER, audience: env.AUTH_JWT_AUDIENCE };
console.log(await signDevToken(secret, { id: values.sub, role: values.role }, Number(values.ttl), claims));
