// Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium (or CHROME_PATH), fake camera and
// microphone, audio without a gesture. Never a downloaded browser.
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROME_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';

/** `true` when Chromium is installed. Tests never skip without it: {@link launchBrowser} fails naming the package. */
export const hasChromium = existsSync(CHROME_PATH);

export interface TestBrowser {
  browser: Browser;
  /** Opens `url` in a new page; page errors and console errors are collected in `errors`. */
  open(url: string): Promise<Page>;
  errors: string[];
  close(): Promise<void>;
}

/**
 * Launches headless Chromium. `options.home`: the HOME it runs with — its NSS database
 * (`$HOME/.pki/nssdb`) is the certificate store Chromium trusts on Linux, so a test that puts a CA there
 * gets a browser that trusts it without any certificate flag.
 */
export async function launchBrowser(extraArgs: string[] = [], options: { home?: string } = {}): Promise<TestBrowser> {
  if (!hasChromium) throw new Error(`no Chromium at ${CHROME_PATH}: apt-get install -y chromium (npm test installs it when it runs as root)`);
  const profile = mkdtempSync(join(tmpdir(), 'lanconf-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROME_PATH,
    headless: true,
    userDataDir: profile,
    ...(options.home ? { env: { ...process.env, HOME: options.home } } : {}),
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required', '--auto-select-desktop-capture-source=Entire screen',
      ...extraArgs,
    ],
  });
  const errors: string[] = [];
  return {
    browser,
    errors,
    async open(url) {
      const page = await browser.newPage();
      // tsx compiles the tests with esbuild's keepNames, so functions handed to page.evaluate call __name.
      await page.evaluateOnNewDocument('globalThis.__name = (f) => f;');
      page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      await page.goto(url, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/**
 * Launches headless Firefox ESR (Debian's; never a downloaded one) with `profile` as its profile: Firefox
 * keeps its own certificate store in the profile's NSS database (`cert9.db`), so a test that puts a CA
 * there gets a Firefox that trusts it with no certificate override. Fake camera and microphone.
 */
export async function launchFirefox(profile: string): Promise<Browser> {
  if (!existsSync(FIREFOX_PATH)) throw new Error(`no Firefox at ${FIREFOX_PATH}: apt-get install -y firefox-esr`);
  return puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX_PATH, headless: true, userDataDir: profile,
    extraPrefsFirefox: { 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true },
  });
}
