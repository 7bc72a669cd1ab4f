import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { documents } from '@lead/contracts';

/**
 * `/docs`: Swagger UI for the OpenAPI document, served from the installed `swagger-ui-dist`
 * so it works offline and loads nothing from elsewhere. Every asset lives under `/docs/` (the
 * only prefix whose Content-Security-Policy allows what Swagger UI needs). Four fixed files,
 * so a route per file is all the static serving this needs.
 */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const PAGE = (base: string) => `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Lead Service API</title>
    <link rel="stylesheet" href="${base}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${base}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${base}/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${base}/swagger-ui-bundle.js"></script>
    <script src="${base}/init.js"></script>
  </body>
</html>
`;

// validatorUrl: null, or Swagger UI sends the document to validator.swagger.io for a badge.
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(documents.openapi.path)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayOperationId: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export function docsRoutes(app: FastifyInstance, _opts: unknown, done: () => void): void {
  const base = documents.docs.path;
  const html = PAGE(base);
  const page = (_req: unknown, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  app.get(base, page);
  app.get(`${base}/`, page);
  app.get(`${base}/init.js`, (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(INIT));
  for (const [file, type] of Object.entries(ASSETS)) {
    // Read on the first request for it, then kept: the bundle alone is 1.7 MB that a service
    // whose docs nobody opens would hold from start-up.
    let content: Promise<Buffer> | undefined;
    // The files change only with the pinned swagger-ui-dist version, i.e. with a deploy.
    app.get(`${base}/${file}`, async (_req, reply) =>
      reply
        .type(type)
        .header('cache-control', 'public, max-age=3600')
        .send(await (content ??= readFile(join(swaggerUiDir, file)))),
    );
  }
  done();
}
