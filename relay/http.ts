/**
 * The relay's HTTP side: the demo page, the built bundles, and `/.well-known/lanconf`, which tells a
 * native client the TCP and UDP ports (so users give one URL, never ports twice).
 * @module
 * @internal
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2', '.wasm': 'application/wasm',
};

/** A URL prefix served from a folder. @internal */
export interface StaticMount {
  prefix: string;
  dir: string;
}

/** Resolves `urlPath` under `dir`, or `undefined` when it would leave it. */
export function safeJoin(dir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const root = resolve(dir);
  const full = resolve(join(root, decoded));
  return full === root || full.startsWith(root + sep) ? full : undefined;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/**
 * Builds the request handler: `/.well-known/lanconf`, then `dynamic` (shared files), then the static mounts.
 * `dynamic` returns `true` when it answered.
 */
export function createHttpHandler(mounts: StaticMount[], info: () => unknown,
  dynamic: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean = () => false): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return send(res, 405, 'method not allowed\n');
      }
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://relay');
      } catch {
        return send(res, 400, 'bad request\n');
      }
      const path = url.pathname;
      if (path === '/.well-known/lanconf') {
        const body = JSON.stringify(info());
        res.setHeader('access-control-allow-origin', '*');
        res.setHeader('cache-control', 'no-store');
        return send(res, 200, body, 'application/json');
      }
      if (dynamic(req, res, url)) return;
      for (const { prefix, dir } of mounts) {
        if (!path.startsWith(prefix)) continue;
        let rest = path.slice(prefix.length);
        if (rest === '' || rest.endsWith('/')) rest += 'index.html';
        const file = safeJoin(dir, rest);
        if (!file) return send(res, 400, 'bad path\n');
        try {
          const info = await stat(file);
          if (!info.isFile()) continue;
          res.writeHead(200, {
            'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
            'content-length': info.size,
            'cache-control': 'no-cache',
            'x-content-type-options': 'nosniff',
            // Intranet pages on other servers load the bundles with <script type="module" src="…relay…">,
            // which browsers fetch with CORS. What is served here is public (the demo and the bundles).
            'access-control-allow-origin': '*',
          });
          if (req.method === 'HEAD') return res.end();
          createReadStream(file).on('error', () => res.destroy()).pipe(res);
          return;
        } catch {
          continue;
        }
      }
      send(res, 404, 'not found\n');
    })().catch(() => res.destroy());
  };
}
