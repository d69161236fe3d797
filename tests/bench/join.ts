/**
 * Time to first join from a cold browser: a new Chromium profile opens the relay's demo page with a meeting
 * and a name, and the clock runs from the navigation to the session's `connected` state (the page load, the
 * components bundle, the WebSocket and its TLS handshake, the join). Once over plain HTTP on loopback (what
 * `lanconf-relay` serves on localhost), once over HTTPS with the relay's own CA trusted through the NSS
 * database of the browser's HOME (the trust step itself excluded). Figures only; never a pass/fail.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../browser.js';
import { startRelay } from '../helpers.js';

/** One configuration's join times (ms). */
export interface JoinTimes {
  label: string;
  samples: number[];
  p50: number;
  max: number;
  error?: string;
}

/** Bytes a browser moved (headers and bodies as received, compressed) to show the demo page and join. */
export interface VisitWeight {
  first: number;
  repeat: number;
  requests: number;
  repeatStatuses: string;
}

export interface JoinBenchResult {
  runs: number;
  configs: JoinTimes[];
  visits?: VisitWeight;
  date: string;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function timeJoins(label: string, tls: boolean, runs: number, log: (line: string) => void): Promise<JoinTimes> {
  const { relay, addresses } = await startRelay(tls ? { tls: 'on' } : {});
  const home = mkdtempSync(join(tmpdir(), 'lanconf-bench-home-'));
  const samples: number[] = [];
  try {
    if (tls) {
      const db = `sql:${join(home, '.pki', 'nssdb')}`;
      execFileSync('mkdir', ['-p', join(home, '.pki', 'nssdb')]);
      execFileSync('certutil', ['-d', db, '-N', '--empty-password']);
      writeFileSync(join(home, 'ca.pem'), relay.caCertificate!);
      execFileSync('certutil', ['-d', db, '-A', '-t', 'C,,', '-n', 'lanconf', '-i', join(home, 'ca.pem')]);
    }
    const base = `${tls ? 'https' : 'http'}://127.0.0.1:${addresses.port}`;
    for (let i = 0; i < runs; i++) {
      // A new browser and profile each time: nothing cached, no connection kept.
      const browser = await launchBrowser([], { home });
      try {
        const page = await browser.browser.newPage();
        const t0 = Date.now();
        await page.goto(`${base}/?meeting=Bench${i}&name=Cold`, { waitUntil: 'domcontentloaded' });
        await page.waitForFunction(() => (document.querySelector('lan-meeting') as unknown as { session?: { state: string } } | null)?.session?.state === 'connected', { timeout: 30_000, polling: 10 });
        samples.push(Date.now() - t0);
      } finally {
        await browser.close();
      }
    }
    log(`  ${label}: ${samples.join(', ')} ms`);
    return { label, samples, p50: percentile(samples, 50), max: Math.max(...samples) };
  } catch (error) {
    return { label, samples, p50: NaN, max: NaN, error: (error as Error).message };
  } finally {
    await relay.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** First and repeat visit to the demo page in one browser profile: bytes received, per CDP's encodedDataLength. */
async function visitWeight(log: (line: string) => void): Promise<VisitWeight | undefined> {
  const { relay, addresses } = await startRelay();
  const browser = await launchBrowser();
  try {
    const page = await browser.browser.newPage();
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    let bytes = 0;
    let requests = 0;
    const statuses: number[] = [];
    cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
      bytes += e.encodedDataLength;
      requests++;
    });
    cdp.on('Network.responseReceived', (e: { response: { status: number; url: string } }) => {
      if (!e.response.url.startsWith('data:')) statuses.push(e.response.status);
    });
    const visit = async () => {
      bytes = 0;
      requests = 0;
      statuses.length = 0;
      await page.goto(`http://127.0.0.1:${addresses.port}/`, { waitUntil: 'networkidle0' });
      return { bytes, requests, statuses: [...statuses] };
    };
    const first = await visit();
    const repeat = await visit();
    log(`  visits: first ${first.bytes} B in ${first.requests} requests, repeat ${repeat.bytes} B (${repeat.statuses.join(', ')})`);
    return { first: first.bytes, repeat: repeat.bytes, requests: first.requests, repeatStatuses: repeat.statuses.join(', ') };
  } catch (error) {
    log(`  visits: failed: ${(error as Error).message}`);
    return undefined;
  } finally {
    await browser.close();
    await relay.close();
  }
}

/** Runs the bench: `runs` cold joins per configuration, and the page's first and repeat visit weights. */
export async function runJoinBench(runs: number, log: (line: string) => void): Promise<JoinBenchResult> {
  log('Time to first join from a cold browser');
  const configs = [
    await timeJoins('plain HTTP on loopback', false, runs, log),
    await timeJoins('HTTPS, the relay\'s CA trusted (NSS)', true, runs, log),
  ];
  const visits = await visitWeight(log);
  return { runs, configs, ...(visits ? { visits } : {}), date: new Date().toISOString().slice(0, 10) };
}

/** The report's section. */
export function renderJoinSection(result: JoinBenchResult): string {
  const L: string[] = [];
  L.push('## Time to first join from a cold browser');
  L.push('');
  L.push(`Measured ${result.date} by \`BENCH_ONLY=join npm run bench\` (tests/bench/join.ts): a new headless Chromium with a new profile`);
  L.push('opens the demo page with a meeting and a name; the time runs from the navigation to the session\'s `connected` state');
  L.push('(page, components bundle, WebSocket with its TLS handshake, join). The trust step itself (installing the CA) is not');
  L.push(`included: the CA sits in the NSS database of the browser's HOME, as after an admin's push. ${result.runs} runs each.`);
  L.push('');
  L.push('| configuration | p50 | max | runs (ms) |');
  L.push('| --- | --- | --- | --- |');
  for (const c of result.configs) {
    L.push(c.error ? `| ${c.label} | – | – | failed: ${c.error} |` : `| ${c.label} | ${c.p50} ms | ${c.max} ms | ${c.samples.join(', ')} |`);
  }
  if (result.visits) {
    const v = result.visits;
    L.push('');
    L.push('### What a visit moves');
    L.push('');
    L.push('The demo page opened twice in one browser profile (plain HTTP on loopback), bytes received as Chromium counts them');
    L.push('(CDP `encodedDataLength`: headers and compressed bodies), until the network is idle. The relay serves the precompressed');
    L.push('brotli files with validators (`Cache-Control: no-cache`, ETag): a repeat visit revalidates and gets 304s.');
    L.push('');
    L.push('| visit | bytes | budget |');
    L.push('| --- | --- | --- |');
    L.push(`| first (${v.requests} requests) | ${v.first.toLocaleString('en')} B | – |`);
    L.push(`| repeat (${v.repeatStatuses}) | ${v.repeat.toLocaleString('en')} B | < 5 KB: ${v.repeat < 5 * 1024 ? 'met' : 'NOT met'} |`);
  }
  return L.join('\n');
}
