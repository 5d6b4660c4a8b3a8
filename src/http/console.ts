import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The <style> elements the console's libraries add to the page, allowed by their digest (the CSP
 * keeps refusing every other inline style and every inline script): react-dsfr's two for the
 * colour scheme, Cytoscape's one for its container.
 */
const LIBRARY_STYLES = [
  ':root { color-scheme: light; }',
  ':root { color-scheme: dark; }',
  '.__________cytoscape_container { position: relative; }',
];
const styleHashes = LIBRARY_STYLES.map(
  (s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`,
).join(' ');

/**
 * The console's own files only, never framed. `data:` images: the DSFR's stylesheet draws a few
 * checkboxes and arrows as inline SVG; an image cannot run code.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; " +
  `style-src 'self' ${styleHashes}; img-src 'self' data:; font-src 'self'; connect-src 'self'; ` +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.json': 'application/json',
};

const builds = new Map<string, Map<string, Buffer>>();

/** Every file of the built console read once into memory: nothing outside it can be named. */
function readBuild(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.map')) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full).split(path.sep).join('/'), fs.readFileSync(full));
  }
  return files;
}

function send(reply: FastifyReply, name: string, body: Buffer): FastifyReply {
  // Vite names every asset by its content's digest: those never change; index.html always may.
  const immutable = name.startsWith('assets/');
  return reply
    .header('content-type', TYPES[path.extname(name)] ?? 'application/octet-stream')
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .send(body);
}

/**
 * The console (web/, built by Vite into web/dist) under /console: a file when one has that name,
 * else index.html so that the browser's own routes (/console/alerts/…) load the application.
 * When the console was not built, /console says so instead of a bare 404.
 */
export function consolePages(
  app: FastifyInstance,
  // Same relative place from src/http/ and from dist/http/.
  dir = fileURLToPath(new URL('../../web/dist/', import.meta.url)),
): void {
  const files = builds.get(dir) ?? builds.set(dir, readBuild(dir)).get(dir)!;
  const index = files.get('index.html');
  const serve = (file: string, reply: FastifyReply) => {
    const body = files.get(file);
    if (body) return send(reply, file, body);
    // A missing asset is a 404, not the page: a script tag must never receive HTML.
    if (/\.[a-z0-9]+$/i.test(file)) return reply.callNotFound();
    if (!index)
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('La console n’est pas construite : npm run build. / The console is not built: npm run build.');
    return send(reply, 'index.html', index);
  };
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/'));
  app.get<{ Params: { '*': string } }>('/console/*', { schema: { hide: true } }, (request, reply) =>
    serve(request.params['*'] || 'index.html', reply),
  );
}
