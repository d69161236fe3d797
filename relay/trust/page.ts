/**
 * The trust page (`/trust`): tells a visitor why and how to trust the relay's certificate authority once,
 * for their operating system first, and checks whether the browser trusts it now.
 *
 * The page has one inline `<style>` and one inline `<script>`, both constant, so the relay can serve it
 * with a strict Content-Security-Policy ({@link TRUST_PAGE_CSP}) that allows exactly those two by hash.
 * Everything that varies (names, URLs, the fingerprint) is HTML-escaped text or attribute values.
 * @module
 * @internal
 */
import { createHash } from 'node:crypto';

/** The operating systems the trust page has instructions for; `other` gets the generic ones. */
export type TrustOs = 'windows' | 'macos' | 'ios' | 'android' | 'linux' | 'chromeos' | 'other';

/**
 * The operating system a `User-Agent` header names. Order matters: iOS and Android user agents also
 * mention Mac OS X and Linux, and ChromeOS mentions X11. An iPad that reports a Mac user agent (the
 * default on iPadOS) is seen as macOS; only a script could tell them apart (touch points).
 *
 * @param userAgent - The request's `User-Agent` header, `''` when absent.
 * @returns The operating system, `'other'` when none is recognised (curl, bots, an empty header).
 */
export function detectOs(userAgent: string): TrustOs {
  const ua = userAgent ?? '';
  if (/iPhone|iPad|iPod/.test(ua)) return 'ios';
  if (/Android/.test(ua)) return 'android';
  if (/Windows NT|Windows Phone|Win64|WOW64/.test(ua)) return 'windows';
  if (/\bCrOS\b/.test(ua)) return 'chromeos';
  if (/Macintosh|Mac OS X/.test(ua)) return 'macos';
  if (/Linux|X11|FreeBSD|OpenBSD/.test(ua)) return 'linux';
  return 'other';
}

/** What {@link renderTrustPage} shows. */
export interface TrustPageInfo {
  /** The relay's HTTPS origin as the visitor reached it, e.g. `https://192.168.1.20:8787` (a path is ignored). */
  httpsUrl: string;
  /** The CA's SHA-256 fingerprint, `AA:BB:…`, as the relay printed it. */
  caFingerprint: string;
  /** The CA's subject common name, as certificate stores show it. */
  caName: string;
  /**
   * `true` for the relay's own name-constrained CA; `false` for an organisation's CA given with `--ca-cert`
   * (then the page shows the fingerprint and downloads, but does not claim the CA is limited to the LAN).
   */
  ownCa: boolean;
  /** The request's `User-Agent`, which decides whose instructions come first. */
  userAgent: string;
  /**
   * A path on the HTTPS origin to open once the CA is trusted, e.g. `/?meeting=Room1`. Anything that is not
   * a plain absolute path (`//host`, `javascript:…`, backslashes, spaces) becomes `/`.
   * @defaultValue `'/'`
   */
  next?: string;
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f4f6f8;--fg:#1c2128;--muted:#57606a;--card:#fff;--line:#d0d7de;--code:#eaeef2;
--accent:#0a58b0;--on-accent:#fff;--ok:#116329;--bad:#a40e26;--focus:#0a58b0}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--card:#161b22;--line:#30363d;
--code:#262c36;--accent:#58a6ff;--on-accent:#0d1117;--ok:#56d364;--bad:#ff7b72;--focus:#79c0ff}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif}
header,main,footer{max-width:46rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.25rem}
.brand{margin:0;font-weight:700;letter-spacing:.02em;color:var(--muted)}
h1{font-size:clamp(1.5rem,5vw,2.1rem);line-height:1.2;margin:.5rem 0 1rem}
h2{font-size:1.25rem;margin:0 0 .75rem}
h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
p,ol,ul{margin:0 0 .75rem}
ol{padding-left:1.5rem}
li{margin-bottom:.4rem}
.lead{font-size:1.08rem}
.safe{border-left:4px solid var(--ok);padding:.25rem 0 .25rem .75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.25rem;margin:1.25rem 0}
.card>:last-child{margin-bottom:0}
code{font:.92em/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:var(--code);
border-radius:4px;padding:.1em .3em;overflow-wrap:anywhere}
.cmd{display:block;margin:.4rem 0;padding:.45rem .6rem;user-select:all;-webkit-user-select:all}
.fp code{display:block;font-size:1rem;padding:.6rem .75rem;letter-spacing:.02em;user-select:all;-webkit-user-select:all}
.note{color:var(--muted)}
a{color:var(--accent)}
.downloads{display:flex;flex-wrap:wrap;gap:.5rem}
.button,button{display:inline-block;font:inherit;font-weight:600;text-decoration:none;cursor:pointer;border-radius:8px;
padding:.6rem 1rem;border:2px solid var(--accent);background:transparent;color:var(--accent);min-height:2.75rem}
.button.primary,button{background:var(--accent);color:var(--on-accent)}
button[aria-disabled=true]{opacity:.7;cursor:progress}
:focus-visible{outline:3px solid var(--focus);outline-offset:3px}
summary:focus-visible{outline-offset:1px}
details{border-top:1px solid var(--line);padding:.25rem 0}
details:last-child{border-bottom:1px solid var(--line)}
summary{cursor:pointer;font-weight:600;padding:.6rem .25rem;border-radius:6px}
details[open]>summary{margin-bottom:.25rem}
.status{min-height:1.6em;font-weight:600;margin-top:.75rem}
.status.ok{color:var(--ok)}
.status.bad{color:var(--bad)}
figure{margin:0;display:flex;flex-wrap:wrap;align-items:center;gap:1rem}
.qr{width:12rem;max-width:100%;background:#fff;border-radius:8px;padding:.25rem;flex:none}
.qr svg{display:block;width:100%;height:auto}
figcaption{flex:1 1 12rem}
figcaption code{font-size:1rem}
footer{color:var(--muted);font-size:.9rem;padding-bottom:2rem}
`;

const SCRIPT = `
(() => {
  const button = document.getElementById('check');
  const status = document.getElementById('status');
  if (!button || !status) return;
  const origin = button.dataset.origin || '';
  const next = button.dataset.next || '/';
  let busy = false;
  const say = (text, kind) => { status.textContent = text; status.className = 'status ' + kind; };
  button.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    button.setAttribute('aria-disabled', 'true');
    say('Checking…', '');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 8000);
    try {
      const response = await fetch(origin + '/.well-known/lanconf', { mode: 'cors', cache: 'no-store', signal: controller.signal });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      say('Trusted — taking you to the meeting…', 'ok');
      setTimeout(() => location.assign(origin + next), 700);
    } catch {
      say('Not trusted yet. If you have just installed the certificate, close every browser window, open the browser again and come back to this page.', 'bad');
      busy = false;
      button.removeAttribute('aria-disabled');
    } finally {
      clearTimeout(timer);
    }
  });
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The Content-Security-Policy to send with {@link renderTrustPage}'s page: nothing external, and only the
 * page's own inline style and script, allowed by their SHA-256 hashes. `connect-src` allows the "Check
 * again" request to the HTTPS origin from the plain-HTTP page.
 */
export const TRUST_PAGE_CSP = [
  "default-src 'none'",
  "img-src 'self' data:",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  'connect-src https: http:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function esc(text: string): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** `next` when it is a plain path on the same origin, else `/`. */
function safeNext(next: string | undefined): string {
  if (typeof next !== 'string' || !/^\/(?![/\\])[^\\\s\u0000-\u001f\u007f]*$/.test(next)) return '/';
  return next;
}

/** The origin of `httpsUrl`, which must be an https: URL. */
function httpsOrigin(httpsUrl: string): string {
  let url: URL;
  try {
    url = new URL(httpsUrl);
  } catch {
    throw new TypeError(`httpsUrl is not a URL: ${JSON.stringify(httpsUrl)}`);
  }
  if (url.protocol !== 'https:') throw new TypeError(`httpsUrl must be an https: URL, got ${JSON.stringify(httpsUrl)}`);
  return url.origin;
}

interface Download {
  href: string;
  label: string;
  /** The `download` attribute; none for the profile, which iOS Safari must open rather than save. */
  file?: string;
}

interface Part {
  title?: string;
  steps: string[];
}

/** One operating system's instructions. Steps and notes are HTML built only from constants and escaped values. */
interface Guide {
  os: TrustOs;
  name: string;
  downloads: Download[];
  parts: Part[];
  notes: string[];
}

const CRT: Download = { href: '/trust/ca.crt', label: 'Download lanconf-ca.crt', file: 'lanconf-ca.crt' };
const PEM: Download = { href: '/trust/ca.pem', label: 'Download lanconf-ca.pem', file: 'lanconf-ca.pem' };
const PROFILE: Download = { href: '/trust/lanconf.mobileconfig', label: 'Download lanconf.mobileconfig' };

const b = (text: string): string => `<strong>${text}</strong>`;
/** A command to copy, on a line of its own (one click selects it whole). */
const cmd = (text: string): string => `<code class="cmd">${text}</code>`;
const path = (...steps: string[]): string => steps.map(b).join(' → ');

const FIREFOX_STEPS = [
  `Open Firefox’s ${path('Settings', 'Privacy &amp; Security', 'Certificates', 'View Certificates…', 'Authorities', 'Import…')} and choose ${b('lanconf-ca.pem')} (or lanconf-ca.crt).`,
  `Tick ${b('Trust this CA to identify websites')} and choose ${b('OK')}.`,
];
const FIREFOX_NOTE = `Firefox may keep its own list: if it still warns after a restart, import the certificate there too: ${path('Settings', 'Privacy &amp; Security', 'Certificates', 'View Certificates…', 'Authorities', 'Import…')}, then tick ${b('Trust this CA to identify websites')}.`;

/** Every operating system's instructions, in the order the "other devices" list shows them. */
function guides(ca: string): Guide[] {
  return [
    {
      os: 'windows', name: 'Windows', downloads: [CRT], notes: [FIREFOX_NOTE],
      parts: [{ steps: [
        `Download ${b('lanconf-ca.crt')} and open it. Check that it is issued to ${b(ca)}, then choose ${b('Install Certificate…')}.`,
        `Choose ${b('Current User')} (just you) or ${b('Local Machine')} (everyone on this computer; needs an administrator), then ${b('Next')}.`,
        `Choose ${b('Place all certificates in the following store')}, then ${path('Browse…', 'Trusted Root Certification Authorities', 'OK')}, then ${path('Next', 'Finish')}.`,
        `If Windows shows a security warning about installing a certificate from ${ca}, choose ${b('Yes')}.`,
      ] }],
    },
    {
      os: 'macos', name: 'macOS', downloads: [PROFILE, CRT], notes: [`Safari and Chrome use the macOS keychain. ${FIREFOX_NOTE}`],
      parts: [
        { title: 'With the profile', steps: [
          `Download ${b('lanconf.mobileconfig')}.`,
          `Open ${b('System Settings')}, search for ${b('Profiles')} and open it (General → Device Management, or Privacy &amp; Security on older versions).`,
          `Double-click ${b(`lanconf: ${ca}`)}, choose ${b('Install…')} and enter your password.`,
        ] },
        { title: 'Or with Keychain Access', steps: [
          `Download ${b('lanconf-ca.crt')} and open it; add it to the ${b('System')} keychain.`,
          `In Keychain Access, select the ${b('System')} keychain and double-click ${b(ca)}.`,
          `Open ${b('Trust')} and set ${b('When using this certificate')} to ${b('Always Trust')}; close the window and enter your password.`,
        ] },
      ],
    },
    {
      os: 'ios', name: 'iPhone and iPad', downloads: [PROFILE],
      notes: ['iOS labels the profile “Not Verified” because it is not signed; the fingerprint check above is what verifies it.'],
      parts: [{ steps: [
        `Open this page in ${b('Safari')} (other browsers cannot install profiles), tap ${b('Download lanconf.mobileconfig')} and choose ${b('Allow')}.`,
        `Open ${b('Settings')}, tap ${b('Profile Downloaded')} near the top (or ${path('General', 'VPN &amp; Device Management')}), then ${b('Install')}; enter your passcode and confirm ${b('Install')}.`,
        `Go to ${path('Settings', 'General', 'About', 'Certificate Trust Settings')} and turn on full trust for ${b(ca)}.`,
      ] }],
    },
    {
      os: 'android', name: 'Android', downloads: [CRT],
      notes: ['Android then says the network may be monitored: that is its standard notice for any certificate authority you add.'],
      parts: [{ steps: [
        `Download ${b('lanconf-ca.crt')}.`,
        `Open ${path('Settings', 'Security', 'Encryption &amp; credentials', 'Install a certificate', 'CA certificate')}. Names vary between makers: search Settings for ${b('CA certificate')}.`,
        `Choose ${b('Install anyway')}, unlock if asked, and pick ${b('lanconf-ca.crt')} from Downloads.`,
      ] }],
    },
    {
      os: 'linux', name: 'Linux', downloads: [PEM, CRT], notes: [],
      parts: [
        { title: 'Chrome and Chromium', steps: [
          `Download ${b('lanconf-ca.pem')}. In a terminal, in the folder it was saved to (usually <code>~/Downloads</code>), run (certutil comes with <code>libnss3-tools</code>): ${cmd('certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n lanconf -i lanconf-ca.pem')}`,
          `Or open <code>chrome://settings/certificates</code> (type it in the address bar), ${path('Authorities', 'Import')}, choose ${b('lanconf-ca.pem')} and tick ${b('Trust this certificate for identifying websites')}.`,
        ] },
        { title: 'The whole system (Debian, Ubuntu)', steps: [
          `In the same folder, run: ${cmd('sudo cp lanconf-ca.pem /usr/local/share/ca-certificates/lanconf.crt &amp;&amp; sudo update-ca-certificates')} This serves curl, Node and other command-line programs; browsers keep their own lists.`,
        ] },
        { title: 'Firefox', steps: FIREFOX_STEPS },
      ],
    },
    {
      os: 'chromeos', name: 'ChromeOS', downloads: [CRT], notes: [],
      parts: [{ steps: [
        `Download ${b('lanconf-ca.crt')}.`,
        `Open <code>chrome://settings/certificates</code> (type it in the address bar), then ${path('Authorities', 'Import')} and choose ${b('lanconf-ca.crt')}.`,
        `Tick ${b('Trust this certificate for identifying websites')} and choose ${b('OK')}.`,
      ] }],
    },
  ];
}

const OTHER: Guide = {
  os: 'other', name: 'your device', downloads: [PEM, CRT, PROFILE], notes: [],
  parts: [{ steps: [
    `Download the certificate: ${b('lanconf-ca.pem')} (text) or ${b('lanconf-ca.crt')} (binary), whichever your system accepts; Apple devices take ${b('lanconf.mobileconfig')}.`,
    'Add it to the trusted certificate authorities of your system or browser, trusted to identify websites.',
  ] }],
};

function renderDownloads(downloads: Download[]): string {
  const links = downloads.map((d, i) => {
    const attr = d.file === undefined ? '' : ` download="${esc(d.file)}"`;
    return `<a class="button${i === 0 ? ' primary' : ''}" href="${esc(d.href)}"${attr}>${esc(d.label)}</a>`;
  });
  return `<p class="downloads">${links.join('')}</p>`;
}

function renderSteps(guide: Guide): string {
  const parts = guide.parts.map((part) => {
    const title = part.title === undefined ? '' : `<h3>${esc(part.title)}</h3>`;
    return `${title}<ol>${part.steps.map((s) => `<li>${s}</li>`).join('')}</ol>`;
  });
  const notes = guide.notes.map((n) => `<p class="note">${n}</p>`);
  return renderDownloads(guide.downloads) + parts.join('') + notes.join('');
}

function renderPrimary(guide: Guide): string {
  const title = guide.os === 'other' ? 'Install the certificate' : `Install on ${guide.name}`;
  return `<section class="card" id="install" data-os="${guide.os}" aria-labelledby="install-title">
<h2 id="install-title">${esc(title)}</h2>
${renderSteps(guide)}
</section>`;
}

function renderOthers(others: Guide[]): string {
  const items = others.map((g) => `<details data-os="${g.os}"><summary>${esc(g.name)}</summary>${renderSteps(g)}</details>`);
  return `<section class="card" aria-labelledby="others-title">
<h2 id="others-title">Other devices</h2>
${items.join('\n')}
</section>`;
}

/**
 * The complete trust page: why to trust the CA (and, for the relay's own CA, why that is safe), its
 * fingerprint, the visitor's own operating system's instructions first and every other system's in
 * collapsed sections, a restart reminder, a "Check again" button that tests the HTTPS origin and then
 * opens `next`, and a QR code of the HTTPS URL for phones.
 *
 * Serve it with the header `content-security-policy: ` + {@link TRUST_PAGE_CSP}. The downloads are the
 * relative links `/trust/ca.crt`, `/trust/ca.pem` and `/trust/lanconf.mobileconfig`; the steps call the
 * saved files `lanconf-ca.crt` and `lanconf-ca.pem` (the `download` attribute names them so; a
 * `content-disposition` must keep those names, as it wins over the attribute).
 *
 * @param info - The CA, the origin, the visitor's user agent and where to go afterwards.
 * @param qrSvg - The `<svg>` of `info.httpsUrl` made by `qrSvg()` of `./qr.js`; inlined as is, so it must
 *   be that function's output, never text from a request.
 * @returns An HTML document.
 * @throws TypeError when `info.httpsUrl` is not an https: URL or `qrSvg` is not an `<svg>` element.
 * @example
 * ```ts
 * const html = renderTrustPage({ httpsUrl, caFingerprint, caName, ownCa: true, userAgent }, await qrSvg(httpsUrl));
 * res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': TRUST_PAGE_CSP });
 * ```
 */
export function renderTrustPage(info: TrustPageInfo, qrSvg: string): string {
  const origin = httpsOrigin(info.httpsUrl);
  const svg = qrSvg.trim();
  if (!/^<svg[\s>]/.test(svg) || !svg.endsWith('</svg>') || /<script|\son\w+\s*=/i.test(svg)) {
    throw new TypeError('qrSvg must be the <svg> element made by qrSvg()');
  }
  const os = detectOs(info.userAgent);
  const ca = esc(info.caName);
  const all = guides(ca);
  const primary = all.find((g) => g.os === os) ?? OTHER;
  const others = all.filter((g) => g !== primary);
  const phone = os === 'ios' || os === 'android';
  const device = phone ? 'This phone or tablet' : 'This computer';
  // The relay answers plain HTTP on its HTTPS port: the way in for a device that does not trust it yet.
  const trustUrl = `http://${new URL(origin).host}/trust`;
  const fingerprint = esc(info.caFingerprint).replace(/:/g, ':<wbr>');
  const why = info.ownCa
    ? `<p class="lead">Browsers allow the camera and microphone only on secure (HTTPS) pages. This meeting server runs on your local network and vouches for itself through a certificate authority of its own, ${b(ca)}, which this device does not know yet. Trust it once, and meetings here open without warnings.</p>
<p class="safe">It is safe: this certificate authority can only vouch for private LAN addresses and local names — it cannot impersonate any public website.</p>`
    : `<p class="lead">Browsers allow the camera and microphone only on secure (HTTPS) pages. This meeting server’s certificate comes from the certificate authority ${b(ca)}, set up by whoever runs it, which this device does not trust yet. Install it only if you expected to, and only after checking its fingerprint below.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>Trust this meeting server · lanconf</title>
<style>${STYLE}</style>
</head>
<body>
<header><p class="brand">lanconf</p></header>
<main>
<h1>${device} needs to trust this meeting server once</h1>
${why}
<section class="card fp" aria-labelledby="fp-title">
<h2 id="fp-title">Check the fingerprint</h2>
<p>Before installing, compare this SHA-256 fingerprint with the one the meeting server printed when it started (ask the person running it). They must match exactly.</p>
<p><code>${fingerprint}</code></p>
</section>
${renderPrimary(primary)}
<section class="card" aria-labelledby="check-title">
<h2 id="check-title">Then restart the browser and check</h2>
<p>Chrome, Edge and other Chromium browsers remember a certificate verdict until they restart: after installing, close every browser window${phone ? ' (on a phone, swipe the browser away in the app switcher)' : ''}, open the browser again and come back to this page.</p>
<button type="button" id="check" data-origin="${esc(origin)}" data-next="${esc(safeNext(info.next))}">Check again</button>
<p id="status" class="status" role="status" aria-live="polite"></p>
</section>
${renderOthers(others)}
<section class="card" aria-labelledby="qr-title">
<h2 id="qr-title">Open the meeting on ${phone ? 'another device' : 'a phone'}</h2>
<figure>
<div class="qr" role="img" aria-label="QR code of ${esc(origin)}">${svg}</div>
<figcaption><p><code>${esc(origin)}</code></p><p>Scan this with ${phone ? 'another' : 'a'} phone’s camera to open the meeting there. If that phone warns about the connection, open <code>${esc(trustUrl)}</code> on it to trust the certificate first.</p></figcaption>
</figure>
</section>
</main>
<footer><p>lanconf meeting server at ${esc(origin)}</p></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
