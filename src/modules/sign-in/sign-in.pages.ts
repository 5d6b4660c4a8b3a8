import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Vigie's own pages: only its own scripts, never framed, no inline script or handler. */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const PAGES: Record<string, string> = {
  '/sign-in': 'sign-in.html',
  '/enrol': 'enrol.html',
  '/sign-out': 'sign-out.html',
  '/account': 'account.html',
  '/step-up': 'step-up.html',
  '/recovery': 'recovery.html',
  '/totp': 'totp.html',
  '/sign-in/federation': 'federation.html',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Every file of a folder (recursively) read once into memory: nothing outside it can be named. */
function readTree(dir: string, filter: RegExp): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !filter.test(entry.name)) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full).split(path.sep).join('/'), fs.readFileSync(full));
  }
  return files;
}

function send(reply: FastifyReply, name: string, body: Buffer): FastifyReply {
  return reply
    .header('content-type', TYPES[path.extname(name)] ?? 'application/octet-stream')
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .send(body);
}

/**
 * /sign-in, /enrol, /sign-out, /account, /step-up, /recovery, /totp (French first, English second) and their scripts, with the
 * ESM build of @simplewebauthn/browser served from node_modules (no CDN).
 */
export function signInPages(app: FastifyInstance): void {
  // Same relative place from src/modules/sign-in/ and from dist/modules/sign-in/.
  const own = readTree(
    fileURLToPath(new URL('../../../public/sign-in/', import.meta.url)),
    /\.(html|js|css)$/,
  );
  const browserLib = readTree(
    path.dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser'))),
    /\.js$/,
  );
  for (const [route, file] of Object.entries(PAGES)) {
    app.get(route, { schema: { hide: true } }, (_request, reply) => send(reply, file, own.get(file)!));
  }
  app.get<{ Params: { file: string } }>(
    '/assets/sign-in/:file',
    { schema: { hide: true } },
    (request, reply) => {
      const body = /\.(js|css)$/.test(request.params.file) ? own.get(request.params.file) : undefined;
      if (!body) return reply.callNotFound();
      return send(reply, request.params.file, body);
    },
  );
  app.get<{ Params: { '*': string } }>(
    '/assets/simplewebauthn/*',
    { schema: { hide: true } },
    (request, reply) => {
      const body = browserLib.get(request.params['*']);
      if (!body) return reply.callNotFound();
      return send(reply, request.params['*'], body);
    },
  );
}
