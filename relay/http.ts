/**
 * The relay's HTTP side: the demo page, the built bundles, and `/.well-known/lanconf`, which tells a
 * native client the TCP and UDP ports (so users give one URL, never ports twice). Static files are served by
 * `sirv`: the brotli or gzip file `npm run build` wrote beside each one when the browser accepts it, ETag and
 * Last-Modified with 304s, ranges, HEAD; `Cache-Control` lets browsers keep a file and revalidate it (a repeat
 * visit moves a few hundred bytes of headers per file), and keep content-hashed chunks for a year.
 * @module
 * @internal
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

/** A URL prefix served from a folder. @internal */
export interface StaticMount {
  prefix: string;
  dir: string;
}

/** The build's content-hashed chunks (`browser/chunks/<name>-<hash>.js`): their content never changes, so browsers keep them. */
const HASHED = /\/chunks\/[^/]+-[\w-]{8,}\.js$/;

function staticHeaders(res: ServerResponse, pathname: string): void {
  res.setHeader('cache-control', HASHED.test(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.setHeader('x-content-type-options', 'nosniff');
  // Intranet pages on other servers load the bundles with <script type="module" src="…relay…">, which browsers
  // fetch with CORS. What is served here is public (the demo and the bundles).
  res.setHeader('access-control-allow-origin', '*');
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
  const statics = mounts.map(({ prefix, dir }) => ({
    prefix,
    // dev: looked up at each request, so a rebuilt bundle is served at once (stat per request: cheap here).
    serve: sirv(dir, { dev: true, etag: true, brotli: true, gzip: true, extensions: ['html'], setHeaders: staticHeaders }),
  }));
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
      for (const { prefix, serve } of statics) {
        if (!path.startsWith(prefix)) continue;
        const original = req.url;
        // sirv serves paths relative to its folder: the mount's prefix goes for the lookup. It answers (or
        // calls `next` for a file it does not have) synchronously.
        req.url = `/${path.slice(prefix.length)}${url.search}`;
        let missed = false;
        serve(req, res, () => {
          missed = true;
        });
        req.url = original;
        if (!missed) return;
      }
      send(res, 404, 'not found\n');
    })().catch(() => res.destroy());
  };
}
