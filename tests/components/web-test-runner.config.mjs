// @web/test-runner for the components: Debian's Chromium (never a downloaded one), TypeScript through
// esbuild, and real relays started for the run; tests read their URLs from /__lanconf/relay.json.
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Relay } from '../../dist/relay/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let relay;
/** The relays' data dirs (chat, files): scratch folders for the run. */
const dataDirs = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanconf-wtr-'));
  dataDirs.push(dir);
  return dir;
};
/** A second relay that asks for the passcode `letmein`, for the refused-join paths. */
let guarded;
export const TEST_PASSCODE = 'letmein';
/**
 * A third relay with TLS from its own certificate authority (made in its scratch data dir), which this
 * Chromium does not trust: for the "not trusted yet" paths. It answers plain HTTP (the trust page and
 * /trust/qr.svg) on the same port.
 */
let untrusted;

/** Starts a relay on 127.0.0.1 for the whole run and tells the pages where it is. */
function relayPlugin() {
  return {
    name: 'lanconf-relay',
    async serverStart() {
      relay = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off', dataDir: scratch() });
      guarded = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off', passcode: TEST_PASSCODE, passcodeAttempts: { freeFailures: 1000 }, dataDir: scratch() });
      untrusted = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'on', dataDir: scratch() });
      await Promise.all([relay.listen(), guarded.listen(), untrusted.listen()]);
    },
    async serverStop() {
      await Promise.all([relay?.close(), guarded?.close(), untrusted?.close()]);
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
    serve(context) {
      if (context.path === '/__lanconf/relay.json') {
        return {
          body: JSON.stringify({
            url: `http://127.0.0.1:${relay.addresses.port}`,
            guardedUrl: `http://127.0.0.1:${guarded.addresses.port}`,
            untrustedUrl: `https://127.0.0.1:${untrusted.addresses.port}`,
          }),
          type: 'json',
        };
      }
      return undefined;
    },
  };
}

/**
 * `executeServerCommand('lanconf-grant-clipboard')`: lets the test page read and write the clipboard, as a
 * person would allow it, so a test can read back what Copy wrote.
 */
function clipboardPlugin() {
  return {
    name: 'lanconf-clipboard',
    async executeCommand({ command, session }) {
      if (command !== 'lanconf-grant-clipboard') return undefined;
      const page = session.browser.getPage(session.id);
      await page.browserContext().overridePermissions(new URL(page.url()).origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
      return true;
    },
  };
}

export default {
  rootDir: root,
  files: 'tests/components/**/*.test.ts',
  nodeResolve: { exportConditions: ['browser', 'development'] },
  // 'auto' would leave decorators and class fields as written: es2022 is what Chromium runs.
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: `${root}/tsconfig.json` }), relayPlugin(), clipboardPlugin()],
  browsers: [chromeLauncher({
    launchOptions: {
      executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        '--autoplay-policy=no-user-gesture-required'],
    },
  })],
  testFramework: { config: { timeout: 20000 } },
  testsFinishTimeout: 300000,
  concurrency: 1,
};
