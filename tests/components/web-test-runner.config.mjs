// @web/test-runner for the components: Debian's Chromium (never a downloaded one), TypeScript through
// esbuild, and a real relay started for the run; tests read its URL from /__lanconf/relay.json.
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

/** Starts a relay on 127.0.0.1 for the whole run and tells the pages where it is. */
function relayPlugin() {
  return {
    name: 'lanconf-relay',
    async serverStart() {
      relay = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off', dataDir: scratch() });
      guarded = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off', passcode: TEST_PASSCODE, dataDir: scratch() });
      await Promise.all([relay.listen(), guarded.listen()]);
    },
    async serverStop() {
      await Promise.all([relay?.close(), guarded?.close()]);
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
    serve(context) {
      if (context.path === '/__lanconf/relay.json') {
        return {
          body: JSON.stringify({ url: `http://127.0.0.1:${relay.addresses.port}`, guardedUrl: `http://127.0.0.1:${guarded.addresses.port}` }),
          type: 'json',
        };
      }
      return undefined;
    },
  };
}

export default {
  rootDir: root,
  files: 'tests/components/**/*.test.ts',
  nodeResolve: { exportConditions: ['browser', 'development'] },
  // 'auto' would leave decorators and class fields as written: es2022 is what Chromium runs.
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: `${root}/tsconfig.json` }), relayPlugin()],
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
