#!/usr/bin/env node
// `npm test`'s first step (the `pretest` script): what the test suite needs from the machine beyond
// `npm install`. The capture and browser tests drive real programs — Chromium and Firefox ESR, an Xvfb
// screen, a PulseAudio null sink, ImageMagick, ffmpeg, certutil, zbarimg, openssl, `ip` — and the native
// audio tests need `audify`, which npm builds only where the ALSA and PulseAudio headers (and cmake) are.
// On Debian/Ubuntu as root it installs what is missing with apt-get, then runs `npm install` again so npm
// retries the optional audify it dropped (`npm rebuild` would not: a dropped optional dependency is not in
// node_modules). Anywhere else it stops at once with one line naming the command to run. It never lets a
// test be skipped: a test that cannot run fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (line) => process.stdout.write(`pretest: ${line}\n`);

/** Debian packages the tests need, each with how to tell it is there. */
const NEEDS = [
  { pkg: 'chromium', present: () => existsSync(process.env.CHROME_PATH ?? '/usr/bin/chromium') },
  { pkg: 'firefox-esr', present: () => existsSync(process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr') },
  { pkg: 'libasound2-dev', present: () => dpkg('libasound2-dev') },
  { pkg: 'libpulse-dev', present: () => dpkg('libpulse-dev') },
  { pkg: 'cmake', present: () => has('cmake') },
  { pkg: 'pulseaudio', present: () => has('pulseaudio') },
  { pkg: 'pulseaudio-utils', present: () => has('pactl') && has('parec') && has('paplay') },
  { pkg: 'xvfb', present: () => has('Xvfb') },
  { pkg: 'x11-xserver-utils', present: () => has('xrandr') && has('xsetroot') },
  { pkg: 'imagemagick', present: () => has('import') && dpkg('imagemagick') },
  { pkg: 'ffmpeg', present: () => has('ffmpeg') },
  { pkg: 'libnss3-tools', present: () => has('certutil') },
  { pkg: 'zbar-tools', present: () => has('zbarimg') },
  { pkg: 'openssl', present: () => has('openssl') },
  { pkg: 'iproute2', present: () => has('ip') },
];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function dpkg(pkg) {
  return spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status === 0;
}

function audifyLoads() {
  // A child process: audify's native module keeps a process alive once loaded.
  const r = spawnSync(process.execPath, ['-e', "require('audify')"], { cwd: root, stdio: 'ignore', timeout: 30_000 });
  return r.status === 0;
}

function stop(line) {
  process.stderr.write(`npm test cannot run here yet: ${line}\n`);
  process.exit(1);
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) stop(`Node ${process.versions.node} is too old; install Node 20 or newer`);

const missing = NEEDS.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length > 0) {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (!has('apt-get')) stop(`the tests need ${missing.join(', ')} (Debian package names); install them with your package manager`);
  if (!isRoot) stop(`run: sudo ${command.replace('&& apt-get', '&& sudo apt-get')}`);
  log(`installing what the tests need: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch (error) {
    stop(`apt-get could not install ${missing.join(' ')} (${error.message}); run: ${command}`);
  }
  const still = NEEDS.filter((n) => !n.present()).map((n) => n.pkg);
  if (still.length > 0) stop(`still missing after apt-get: ${still.join(', ')}`);
}

if (!audifyLoads()) {
  // npm skipped the optional audify when its build failed (no headers then); with them now, install again.
  log('audify (native microphone and speaker) is not built: running npm install again to build it');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) stop('npm install failed; run it again and read its errors');
  if (!audifyLoads()) {
    let where = '';
    try {
      where = ` (${createRequire(join(root, 'package.json')).resolve('audify')})`;
    } catch {
      where = ' (not in node_modules)';
    }
    stop(`audify still does not load${where}; with libasound2-dev, libpulse-dev and cmake installed, run: npm install audify`);
  }
}
log('the machine has everything the tests need');
