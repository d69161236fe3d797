/**
 * The trust page's routes, served on the relay's port over plain HTTP (for browsers that do not trust the
 * relay yet) and over HTTPS alike: `/trust`, `/trust/ca.pem`, `/trust/ca.crt`,
 * `/trust/lanconf.mobileconfig` and `/trust/qr.svg?text=…`.
 * @module
 * @internal
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TlsMaterial } from '../tls.js';
import { mobileconfig } from './mobileconfig.js';
import { TRUST_PAGE_CSP, renderTrustPage } from './page.js';
import { qrSvg } from './qr.js';

/** Answers a request under `/trust`; `false` when the path is not one of its own. `secure`: it came over HTTPS. @internal */
export type TrustRoutes = (req: IncomingMessage, res: ServerResponse, url: URL, secure: boolean) => boolean;

/** What the routes read from the relay, each time (the CA's server certificate may be issued again). @internal */
export interface TrustContext {
  material(): TlsMaterial;
  /** The relay's HTTPS origins (`https://192.168.1.20:8787`…), the LAN's first, as it prints them. */
  httpsOrigins(): string[];
}

const QR_MAX_TEXT = 1024;

/**
 * The relay's HTTPS origin for a visitor: the one its `Host` header names when that is one of the relay's
 * own, else the first LAN one. A `Host` header is never echoed unchecked (a page must not link elsewhere).
 */
export function originFor(hostHeader: string | undefined, origins: readonly string[]): string | undefined {
  const lan = origins.find((o) => !/\/\/(localhost|127\.|\[::1\])/.test(o)) ?? origins[0];
  if (!hostHeader) return lan;
  const wanted = hostHeader.toLowerCase().replace(/:\d+$/, '');
  return origins.find((o) => new URL(o).hostname.toLowerCase() === wanted) ?? lan;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    'x-content-type-options': 'nosniff', 'access-control-allow-origin': '*', ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Builds the trust routes. @internal */
export function createTrustRoutes(context: TrustContext): TrustRoutes {
  return (req, res, url, secure) => {
    const path = url.pathname;
    if (path !== '/trust' && path !== '/trust/' && !path.startsWith('/trust/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    const material = context.material();
    const ca = material.ca;
    const origin = originFor(req.headers.host, context.httpsOrigins());
    if (!ca) {
      // The admin's own certificate: nothing to trust here; plain HTTP goes to HTTPS, HTTPS has no trust page.
      if (secure || !origin) return false;
      res.writeHead(308, { location: `${origin}/`, 'content-length': 0 });
      res.end();
      return true;
    }
    switch (path) {
      case '/trust':
      case '/trust/': {
        const meeting = url.searchParams.get('meeting');
        const next = meeting ? `/?meeting=${encodeURIComponent(meeting.slice(0, 64))}` : '/';
        if (!origin) {
          send(res, 503, 'text/plain; charset=utf-8', 'the relay is not listening yet\n');
          return true;
        }
        void qrSvg(`${origin}/`).then((qr) => {
          const page = renderTrustPage({
            httpsUrl: origin, caFingerprint: ca.fingerprint, caName: ca.name, ownCa: ca.own,
            userAgent: String(req.headers['user-agent'] ?? ''), next,
          }, qr);
          send(res, 200, 'text/html; charset=utf-8', page, {
            'content-security-policy': TRUST_PAGE_CSP, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer',
          });
        }).catch(() => {
          if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'cannot draw the trust page\n');
        });
        return true;
      }
      case '/trust/ca.pem':
        send(res, 200, 'application/x-pem-file', ca.cert, { 'content-disposition': 'attachment; filename="lanconf-ca.pem"', 'cache-control': 'no-cache' });
        return true;
      case '/trust/ca.crt':
        send(res, 200, 'application/x-x509-ca-cert', new Uint8Array(new X509Certificate(ca.cert).raw),
          { 'content-disposition': 'attachment; filename="lanconf-ca.crt"', 'cache-control': 'no-cache' });
        return true;
      case '/trust/lanconf.mobileconfig': {
        let profile: string;
        try {
          profile = mobileconfig(new Uint8Array(new X509Certificate(ca.cert).raw), { caName: ca.name, fingerprint: ca.fingerprint });
        } catch {
          send(res, 500, 'text/plain; charset=utf-8', 'cannot make the profile\n');
          return true;
        }
        send(res, 200, 'application/x-apple-aspen-config', profile,
          { 'content-disposition': 'attachment; filename="lanconf.mobileconfig"', 'cache-control': 'no-cache' });
        return true;
      }
      case '/trust/qr.svg': {
        const text = url.searchParams.get('text') ?? '';
        if (!text || text.length > QR_MAX_TEXT || !/^https?:\/\//i.test(text)) {
          send(res, 400, 'text/plain; charset=utf-8', `text must be an http(s) URL of at most ${QR_MAX_TEXT} characters\n`);
          return true;
        }
        void qrSvg(text).then(
          (svg) => send(res, 200, 'image/svg+xml', svg, { 'cache-control': 'public, max-age=86400', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" }),
        ).catch(() => {
          if (!res.headersSent) send(res, 400, 'text/plain; charset=utf-8', 'cannot draw this text as a QR code\n');
        });
        return true;
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
        return true;
    }
  };
}
