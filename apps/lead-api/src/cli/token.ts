// `pnpm -s token [--role admin|cms|sales] [--sub <uuid>] [--ttl <seconds>]`: prints a signed bearer token
// for local use, signed with AUTH_JWT_SECRET or the development secret the service uses.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { signDevToken } from '../auth.js';
import { devJwtSecret } from '../dev-secret.js';
import { ConfigError, loadEnv } from '../env.js';

const USAGE = `Usage: npm run -s token -- [--role admin|cms|sales] [--sub <uuid>] [--ttl <seconds>]

Prints a bearer token for local use, signed (HS256) with AUTH_JWT_SECRET, or with the
development secret in DATA_DIR that the service uses when AUTH_JWT_SECRET is not set; it
carries AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE when those are set.

  --role  the token's role claim (default: admin)
  --sub   the user id, a UUID (default: a random one)
  --ttl   lifetime in seconds (default: 28800, 8 hours)
  --help  prints this`;

let values: { role: string; sub: string; ttl: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string', default: 'admin' },
      sub: { type: 'string', default: randomUUID() },
      ttl: { type: 'string', default: String(8 * 3600) },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!['admin', 'cms', 'sales'].includes(values.role) || !/^\d+$/.test(values.ttl)) {
  console.error(`--role must be admin, cms or sales and --ttl a number of seconds\n\n${USAGE}`);
  process.exit(2);
}
let env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const secret = env.AUTH_JWT_SECRET ?? (await devJwtSecret(env.DATA_DIR));
const claims = { issuer: env.AUTH_JWT_ISSUER, audience: env.AUTH_JWT_AUDIENCE };
console.log(await signDevToken(secret, { id: values.sub, role: values.role }, Number(values.ttl), claims));
