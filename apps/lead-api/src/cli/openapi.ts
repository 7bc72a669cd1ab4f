// `pnpm --filter @lead/api run openapi:update`: rewrites the committed OpenAPI document from the
// contracts. A diff in it is a change to the public REST contract, to be read in review.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, COMMITTED_OPENAPI_FILE, serializeOpenApiDocument } from '../openapi.js';

await writeFile(COMMITTED_OPENAPI_FILE, serializeOpenApiDocument(buildOpenApiDocument()));
console.log(`wrote ${fileURLToPath(COMMITTED_OPENAPI_FILE)}`);
