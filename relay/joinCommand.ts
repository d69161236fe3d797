/**
 * `lanconf-relay join <url> --meeting M --name N [--screen[=display]] [--mic[=device]] [--speaker[=device]]
 * [--camera[=device]]`: a native host in a meeting, without a browser. Shares what was asked through the
 * capture adapters, prints who is there and the chat, sends typed lines as chat, joins again when the relay
 * restarts, leaves cleanly on Ctrl-C. And `lanconf-relay devices`: what each adapter can use here.
 * @module
 * @internal
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Backoff } from '../sdk/backoff.js';
import { ErrorCode, LanError } from '../sdk/errors.js';
import { formatSize } from '../sdk/files/format.js';
import { joinMeeting, type NodeJoinOptions } from '../sdk/node.js';
import type { Session } from '../sdk/Session.js';
import { normalizeFingerprint } from '../sdk/node/nodeTls.js';
import type { RemoteTrack } from '../sdk/Track.js';
import { discover, type RelayAdvert } from './discovery.js';
import {
  listAllDevices, playSpeaker, shareCamera, shareMicrophone, shareScreen, type CaptureShare, type SpeakerOutput,
} from './capture/index.js';

export const JOIN_HELP = `lanconf-relay join — join a meeting from this machine, sharing its screen, microphone, camera, speaker

Usage:
  lanconf-relay join <url> --meeting <id> --name <name> [options]
  lanconf-relay join --meeting <id> --name <name> [options]   the only relay heard on the LAN (relays
                                                              started with --mdns), trusted only through
                                                              --fingerprint or a CA this machine trusts

Options:
  --meeting <id>        the meeting to join
  --name <name>         the name others see
  --passcode <code>     the relay's passcode, if it has one
  --host-key <key>      the relay's host key: join as a host of the meeting (a room PC that runs it)
  --screen[=<display>]  share a screen (default: the primary display)
  --mic[=<device>]      share a microphone (default: the default input)
  --speaker[=<device>]  play the meeting's audio (default: the default output)
  --camera[=<device>]   share a camera (default: the first one)
  --transport <t>       native (TCP + UDP, default) or websocket
  --fingerprint <fp>    accept only the certificate with this SHA-256 fingerprint (as the relay prints it)
  --ca <file>           trust this certificate (a relay's self-signed cert.pem)
  --insecure            do not check the relay's certificate (prefer --fingerprint or --ca)
  -h, --help            this help

Typed lines are sent as chat. Ctrl-C leaves the meeting. "lanconf-relay devices" lists what can be shared.
`;

/** One relay heard on the LAN, as a line for people. */
export function describeAdvert(advert: RelayAdvert): string {
  return `  ${advert.name}  ${advert.url}${advert.fingerprint ? `  (announces CA ${advert.fingerprint})` : ''}`;
}

/** `lanconf-relay discover`: the relays announcing themselves on the LAN. */
export async function runDiscover(argv: string[], out: Out): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { timeout: { type: 'string' }, interface: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    out.error(`lanconf-relay discover: ${(error as Error).message}`);
    return 2;
  }
  if (args.help) {
    out.line('lanconf-relay discover [--timeout <s>] [--interface <name|address>]: lists the relays started with --mdns on this LAN.\n'
      + 'What they announce (URL, CA fingerprint) is for comparison only: anyone can answer mDNS.');
    return 0;
  }
  const seconds = args.timeout === undefined ? 3 : Number(args.timeout);
  if (!(seconds > 0 && seconds <= 60)) {
    out.error('lanconf-relay discover: --timeout must be a number of seconds from 0 to 60');
    return 2;
  }
  try {
    const found = await discover({ timeoutMs: seconds * 1000, ...(args.interface ? { interface: args.interface } : {}) });
    if (found.length === 0) out.line('No relay heard (relays announce themselves only when started with --mdns).');
    for (const advert of found) out.line(describeAdvert(advert));
    return 0;
  } catch (error) {
    out.error(`lanconf-relay discover: ${(error as Error).message}`);
    return 1;
  }
}

const SHARES = ['screen', 'mic', 'speaker', 'camera'] as const;
type ShareName = (typeof SHARES)[number];
type Running = CaptureShare | SpeakerOutput;

/** `--screen` alone means "the default": parseArgs wants a value, so it becomes `--screen=`. */
function withOptionalValues(argv: string[]): string[] {
  return argv.map((a) => (SHARES.some((s) => a === `--${s}`) ? `${a}=` : a));
}

interface Out {
  line(text: string): void;
  error(text: string): void;
}

const isFingerprint = (fp: string) => {
  try {
    normalizeFingerprint(fp);
    return true;
  } catch {
    return false;
  }
};

const clock = (ts: number) => new Date(ts).toTimeString().slice(0, 5);

/** Starts each requested share in `session`; reports each failure; returns what runs. */
async function startShares(session: Session, wanted: Partial<Record<ShareName, string>>, out: Out): Promise<{ running: Running[]; failed: number; playing: boolean }> {
  const running: Running[] = [];
  let failed = 0;
  let playing = false;
  const opts = (device: string | undefined) => (device ? { device } : {});
  const starts: Record<ShareName, (device: string | undefined) => Promise<Running>> = {
    screen: (d) => shareScreen(session, opts(d)),
    mic: (d) => shareMicrophone(session, opts(d)),
    camera: (d) => shareCamera(session, opts(d)),
    speaker: (d) => playSpeaker(session, opts(d)),
  };
  for (const name of SHARES) {
    if (!(name in wanted)) continue;
    try {
      const share = await starts[name](wanted[name] || undefined);
      const events = share as unknown as { on(event: 'error' | 'ended', listener: (e?: LanError) => void): void };
      events.on('error', (e) => out.error(`${name}: ${e?.message}`));
      events.on('ended', (e) => {
        if (e) out.error(`${name} stopped: ${e.message}`);
      });
      running.push(share);
      if (name === 'speaker') playing = true;
      out.line(name === 'speaker' ? 'Playing the meeting\'s audio.' : `Sharing ${name === 'mic' ? 'the microphone' : `the ${name}`}.`);
    } catch (error) {
      failed++;
      out.error(`Cannot share ${name === 'mic' ? 'the microphone' : `the ${name}`}: ${(error as Error).message}`);
    }
  }
  return { running, failed, playing };
}

/** Prints the meeting's life: who is there, who comes and goes, the chat, shared files. */
function narrate(session: Session, out: Out): void {
  const names = [...session.participants.values()].map((p) => p.name);
  out.line(`Joined "${session.meeting}" as ${session.local.name}. ${names.length ? `In the meeting: ${names.join(', ')}.` : 'Nobody else is here yet.'}`);
  for (const m of session.chat.messages) out.line(`[${clock(m.timestamp)}] ${m.name}: ${m.text}`);
  session.on('participantJoined', (p) => out.line(`+ ${p.name} joined`));
  session.on('participantLeft', (p) => out.line(`- ${p.name} left`));
  session.on('chat', (m) => {
    if (!m.local) out.line(`[${clock(m.timestamp)}] ${m.name}: ${m.text}`);
  });
  session.on('fileOffered', (f) => {
    if (!f.local) out.line(`${f.fromName} shared ${JSON.stringify(f.name)} (${formatSize(f.size)}): ${f.url ?? ''}`);
  });
  session.on('stateChanged', (state) => {
    if (state === 'reconnecting') out.line('Connection lost; reconnecting…');
    else if (state === 'connected') out.line('Reconnected.');
  });
  // Hosts' actions, as everyone hears them. A mute of this host's own track is obeyed by the SDK (the track
  // stops sending); it is said here.
  const nameOf = (id: string | undefined) => (id === session.local.id ? 'you' : session.participants.get(id ?? '')?.name ?? 'someone');
  session.on('mutedByHost', (track, by) => out.line(`${nameOf(by)} muted this computer's ${track.kind}`));
  session.on('roleChanged', (id, role, by) => out.line(`${nameOf(id)} ${id === session.local.id ? 'are' : 'is'} now ${role === 'host' ? 'a host' : 'a guest'}${by ? ` (by ${nameOf(by)})` : ''}`));
  session.on('hostAction', (a) => {
    if (a.action === 'lock' || a.action === 'unlock') out.line(`${nameOf(a.by)} ${a.action}ed the meeting`);
    else if (a.action === 'muteAll') out.line(`${nameOf(a.by)} muted everyone`);
  });
}

/** Ends of a session that a host decided: `lanconf-relay join` does not join again after them. */
const HOST_ENDINGS: ReadonlySet<string> = new Set<string>([ErrorCode.Removed, ErrorCode.Ended]);

/**
 * Receives only what this host uses: it shows no video, and plays audio only with a speaker. Every other
 * remote track, present or to come, is paused at the relay, which then sends none of it here. Call the
 * result with `false` when the speaker could not start after all: the audio is paused too.
 */
function receiveOnlyUsed(session: Session, playsAudio: boolean): (playsAudio: boolean) => void {
  const choose = (track: RemoteTrack) => {
    if (track.kind !== 'microphone' || !playsAudio) track.pause();
    else track.resume();
  };
  for (const track of session.tracks.values()) choose(track);
  session.on('trackPublished', choose);
  return (plays) => {
    playsAudio = plays;
    for (const track of session.tracks.values()) choose(track);
  };
}

/**
 * Join failures after which joining again may work: the relay is restarting or unreachable (the same
 * ends `<lan-meeting>` joins again after). Any other (a passcode changed, a full meeting, a certificate
 * no longer trusted…) is a refusal that will not change by waiting.
 */
const JOIN_AGAIN_AFTER: ReadonlySet<string> = new Set<string>([ErrorCode.Shutdown, ErrorCode.Closed, ErrorCode.Timeout, ErrorCode.Unreachable]);

/**
 * Runs `join`. Resolves with the exit code: 0 after Ctrl-C, 2 for bad arguments, 1 when it could not
 * join (the first time, or again after a refusal that will not change), or when shares were asked for
 * and none could start.
 *
 * Once in, a session that ends is joined again at once, then after pauses of 1 s doubling up to 10 s
 * (back to 1 s after each join), until Ctrl-C or a refusal that will not change.
 */
export async function runJoin(argv: string[], out: Out, stop: Promise<void>): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: withOptionalValues(argv),
      options: {
        meeting: { type: 'string' }, name: { type: 'string' }, passcode: { type: 'string' }, 'host-key': { type: 'string' },
        screen: { type: 'string' }, mic: { type: 'string' }, speaker: { type: 'string' }, camera: { type: 'string' },
        transport: { type: 'string' }, ca: { type: 'string' }, fingerprint: { type: 'string' }, insecure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    out.error(`lanconf-relay join: ${(error as Error).message}\nTry lanconf-relay join --help`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    out.line(JOIN_HELP);
    return 0;
  }
  let url = args.positionals[0];
  const problem = args.positionals.length > 1 ? `unexpected ${JSON.stringify(args.positionals[1])}`
      : !v.meeting ? '--meeting is required' : !v.name ? '--name is required'
        : v.transport && v.transport !== 'native' && v.transport !== 'websocket' ? '--transport must be native or websocket'
          : v.fingerprint !== undefined && !isFingerprint(v.fingerprint) ? '--fingerprint must be the 32 hex bytes the relay printed (AB:CD:…)' : undefined;
  if (problem) {
    out.error(`lanconf-relay join: ${problem}\nTry lanconf-relay join --help`);
    return 2;
  }
  if (!url) {
    // No URL: the relays that announce themselves on the LAN (mDNS). What they announce is shown, never
    // trusted: anyone can answer mDNS, so the connection is still checked by --fingerprint or a known CA.
    let found;
    try {
      found = await discover({ timeoutMs: 3000 });
    } catch (error) {
      out.error(`lanconf-relay join: cannot look for relays on the LAN: ${(error as Error).message}`);
      return 1;
    }
    if (found.length !== 1) {
      out.error(found.length === 0
        ? 'lanconf-relay join: no relay heard on this network (one started with --mdns); give its URL'
        : `lanconf-relay join: ${found.length} relays heard; give the URL of one:\n${found.map(describeAdvert).join('\n')}`);
      return found.length === 0 ? 1 : 2;
    }
    url = found[0]!.url;
    out.line(`Found ${describeAdvert(found[0]!).trim()}`);
    if (!v.fingerprint && !v.ca && !v.insecure) {
      out.line('  (its announced fingerprint is not trusted by itself: only a CA this machine trusts is; or pass --fingerprint)');
    }
  }
  let ca: string | undefined;
  if (v.ca) {
    try {
      ca = await readFile(v.ca, 'utf8');
    } catch (error) {
      out.error(`lanconf-relay join: cannot read --ca ${v.ca}: ${(error as Error).message}`);
      return 2;
    }
  }
  const wanted: Partial<Record<ShareName, string>> = {};
  for (const name of SHARES) if (v[name] !== undefined) wanted[name] = v[name];
  const options: NodeJoinOptions = {
    url: url!, meeting: v.meeting!, name: v.name!, transport: (v.transport as 'native' | 'websocket' | undefined) ?? 'native',
    ...(v.passcode !== undefined ? { passcode: v.passcode } : {}),
    ...(v['host-key'] !== undefined ? { hostKey: v['host-key'] } : {}),
    ...(ca || v.fingerprint || v.insecure
      ? { tls: { ...(ca ? { ca } : {}), ...(v.fingerprint ? { fingerprint: v.fingerprint } : {}), ...(v.insecure ? { insecure: true } : {}) } } : {}),
  };

  let stopped = false;
  const stopping = new AbortController();
  void stop.then(() => {
    stopped = true;
    stopping.abort();
  });
  let session: Session | undefined;
  let running: Running[] = [];
  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (text) => {
    const line = text.trim();
    if (!line || !session || session.state === 'closed') return;
    session.chat.send(line).catch((error: Error) => out.error(`chat not sent: ${error.message}`));
  });
  try {
    let first = true;
    const backoff = new Backoff({ initialMs: 1000, maxMs: 10_000, signal: stopping.signal });
    while (!stopped) {
      try {
        session = await Promise.race([joinMeeting(options), stop.then(() => undefined)]);
      } catch (error) {
        const e = error as LanError;
        if (first) {
          out.error(`Cannot join: ${e.message}`);
          return 1;
        }
        if (!(e instanceof LanError) || !JOIN_AGAIN_AFTER.has(e.code)) {
          out.error(`Cannot join again: ${e.message}`);
          return 1;
        }
        out.error(`Cannot join again yet (${e.message}); retrying in ${backoff.nextDelayMs / 1000} s`);
        await backoff.wait();
        continue;
      }
      if (!session) break;
      backoff.reset();
      narrate(session, out);
      // Before the shares start (they may take seconds): nothing unused is received meanwhile.
      const playsAudio = receiveOnlyUsed(session, 'speaker' in wanted);
      const started = await startShares(session, wanted, out);
      running = started.running;
      if ('speaker' in wanted && !started.playing) playsAudio(false);
      if (first && started.failed > 0 && started.running.length === 0) {
        out.error('Nothing could be shared.');
        await session.leave();
        return 1;
      }
      first = false;
      const ended = new Promise<LanError | undefined>((resolve) => session!.once('disconnected', resolve));
      const why = await Promise.race([ended, stop.then(() => 'stop' as const)]);
      if (why === 'stop') break;
      await Promise.all(running.map((r) => r.stop().catch(() => {})));
      running = [];
      // Removed, or the meeting ended: a kiosk must not come back (or recreate the meeting). Exit 0: done as asked.
      if (why && HOST_ENDINGS.has(why.code)) {
        out.line(`${why.code === ErrorCode.Removed ? 'Removed from the meeting' : 'The meeting ended'}: ${why.message}`);
        return 0;
      }
      out.error(`Disconnected: ${why?.message ?? 'the connection closed'}. Joining again…`);
    }
    return 0;
  } finally {
    lines.close();
    await Promise.all(running.map((r) => r.stop().catch(() => {})));
    if (session && session.state !== 'closed') {
      await session.leave();
      out.line(`Left "${session.meeting}".`);
    }
  }
}

/** Runs `devices`: every adapter's devices, or why it cannot run here. Exit code 0. */
export async function runDevices(argv: string[], out: Out): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    out.line('lanconf-relay devices — list the screens, cameras, microphones and speakers this machine can share\n\nUsage:\n  lanconf-relay devices\n');
    return 0;
  }
  if (argv.length > 0) {
    out.error(`lanconf-relay devices: unexpected ${JSON.stringify(argv[0])}`);
    return 2;
  }
  const all = await listAllDevices();
  const flag = { screen: '--screen', camera: '--camera', microphone: '--mic', speaker: '--speaker' } as const;
  for (const key of ['screen', 'camera', 'microphone', 'speaker'] as const) {
    const report = all[key];
    out.line(`${key} (${flag[key]}=<id>):`);
    if (!report.available) {
      out.line(`  unavailable: ${report.error.message}`);
      continue;
    }
    for (const d of report.devices) out.line(`  ${d.id}${d.name && d.name !== d.id ? `  ${d.name}` : ''}${d.isDefault ? '  (default)' : ''}${d.details ? `  — ${d.details}` : ''}`);
  }
  return 0;
}
