/**
 * Fuzz target `ws-handshake`: the HTTP request head of a WebSocket upgrade, as the relay reads it
 * (Node's HTTP parser, the relay's `upgrade` handler in relay/Relay.ts, `ws`'s `handleUpgrade` set up in
 * relay/wsLink.ts), sent over raw TCP to a real relay (`startRelay()`). Frame internals are `ws`'s and
 * not fuzzed here; bytes after the head are, a little.
 *
 * Every request must be answered with an HTTP status line, or the connection closed, within 6 s (4 s for
 * a head left unfinished, whose sender then closes its side). A `101` must carry the right
 * `Sec-WebSocket-Accept`, no extension (compression is off) and no subprotocol that was not offered.
 * A request that RFC 6455 §4.2.1 makes a handshake (GET, HTTP/1.1, Host, `Upgrade: websocket`,
 * `Connection: Upgrade`, a 16-byte base64 key, version 13; the relay takes any path, §1.1) must get
 * `101`; one without a `websocket` upgrade, a valid key, a version 13 (or 8, which `ws` also speaks) or
 * the method GET must not. Now and then, and after the run, an honest join must still get its `welcome`.
 * @module
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { HOST, startRelay, type TestRelay } from '../../helpers.js';
import { concat, mutateBytes, mutatedSeeds, oneOf } from '../mutate.js';
import { honestJoin } from '../relayFixture.js';
import { bytesFromJson, bytesToJson, ensure, fail, show, type FuzzTarget } from '../target.js';

/** A request head in parts (so its validity is known), or raw bytes (a mutation: validity unknown). */
export interface HandshakeInput {
  head?: { method: string; target: string; version: string; headers: Array<[string, string]>; eol: string; end: boolean; tail: string };
  bytes?: Uint8Array;
  /** Then check that an honest join still works. */
  thenJoin: boolean;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const GOOD_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function bytesOf(input: HandshakeInput): Uint8Array {
  if (input.bytes) return input.bytes;
  const h = input.head!;
  const text = `${h.method} ${h.target} ${h.version}${h.eol}${h.headers.map(([n, v]) => `${n}: ${v}${h.eol}`).join('')}${h.end ? h.eol : ''}`;
  return concat(Buffer.from(text, 'latin1'), Buffer.from(h.tail, 'base64'));
}

/** The header's values (Node joins repeated lines; the checks below look at each line). */
function values(h: NonNullable<HandshakeInput['head']>, name: string): string[] {
  return h.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim());
}

/** `yes`: RFC 6455 says handshake; `no`: it clearly is not; `maybe`: in between (the server may choose). */
function verdict(input: HandshakeInput): 'yes' | 'no' | 'maybe' {
  const h = input.head;
  if (!h) return 'maybe';
  // A CR or LF inside a part makes another request than the parts say; so does a head left unfinished.
  if ([h.method, h.target, h.version, ...h.headers.flat()].some((s) => /[\r\n]/.test(s)) || !h.end) return 'maybe';
  const upgrade = values(h, 'upgrade');
  const connection = values(h, 'connection');
  const keys = values(h, 'sec-websocket-key');
  const versions = values(h, 'sec-websocket-version');
  const wellFormedHead = h.headers.every(([n, v]) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(n) && /^[\t\x20-\x7e]*$/.test(v))
    && h.headers.reduce((sum, [n, v]) => sum + n.length + v.length + 4, 0) < 8000;
  const no = h.method !== 'GET'
    || !upgrade.some((u) => u.split(',').some((t) => t.trim().toLowerCase() === 'websocket'))
    || !connection.some((c) => c.split(',').some((t) => t.trim().toLowerCase() === 'upgrade'))
    || !keys.some((k) => /^[+/0-9A-Za-z]{22}==$/.test(k))
    || !versions.some((v) => Number(v) === 13 || Number(v) === 8);
  if (no && wellFormedHead && h.version === 'HTTP/1.1' && h.eol === '\r\n') return 'no';
  if (no) return 'maybe';
  const yes = wellFormedHead && h.version === 'HTTP/1.1' && h.eol === '\r\n' && /^\/[\w/.~%-]*(\?[\w=&%-]*)?$/.test(h.target)
    && values(h, 'host').length === 1 && upgrade.length === 1 && upgrade[0]!.toLowerCase() === 'websocket'
    && connection.length === 1 && keys.length === 1 && versions.length === 1 && versions[0] === '13'
    && values(h, 'content-length').length === 0 && values(h, 'transfer-encoding').length === 0
    && values(h, 'sec-websocket-protocol').every((p) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/.test(p))
    && values(h, 'sec-websocket-protocol').length <= 1
    // Offering one subprotocol twice is refused by ws (and pointless): left to the server.
    && values(h, 'sec-websocket-protocol').every((p) => new Set(p.split(',').map((t) => t.trim())).size === p.split(',').length);
  return yes ? 'yes' : 'maybe';
}

interface Exchange {
  /** Bytes received before the relay closed or the fuzzer stopped waiting. */
  received: Buffer;
  /** The relay closed the connection. */
  closed: boolean;
}

/** Sends `bytes` and waits for an answer's head or a close (`finished` heads: 3 s, then FIN and 3 s more; unfinished: FIN at once, 4 s). */
function exchange(port: number, bytes: Uint8Array, finished: boolean): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => {
      // A finished head that got nothing: say we are done sending, and give the relay 3 s more.
      if (finished && !socket.writableEnded) {
        socket.end();
        timer.refresh();
        return;
      }
      finish(false);
    }, finished ? 3000 : 4000);
    socket.on('connect', () => {
      socket.write(bytes);
      if (!finished) socket.end();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).includes('\r\n\r\n')) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

function headerOf(head: string, name: string): string[] {
  return head.split('\r\n').slice(1).filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
}

// ---- generation ----------------------------------------------------------------------------------

const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-._~!#$'), minLength: 1, maxLength: 10 });
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 24 });

const valueOf: Record<string, fc.Arbitrary<string>> = {
  Host: fc.constantFrom('127.0.0.1', 'relay.local:8787', '', '[::1]:1', 'a b', 'x'.repeat(300)),
  Upgrade: fc.constantFrom('websocket', 'WebSocket', 'WEBSOCKET', 'websocket, h2c', 'h2c', 'websocket2', '', ' websocket ', 'web socket'),
  Connection: fc.constantFrom('Upgrade', 'upgrade', 'keep-alive, Upgrade', 'close', 'keep-alive', '', 'Upgrade, close', 'upgrade,upgrade'),
  'Sec-WebSocket-Key': fc.oneof(
    fc.constantFrom(GOOD_KEY, 'AAAAAAAAAAAAAAAAAAAAAA==', '', 'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZQ===', 'dGhlIHNhbXBsZSBub25jZQ', '!GhlIHNhbXBsZSBub25jZQ==', 'x'.repeat(1000)),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString('base64')),
  ),
  'Sec-WebSocket-Version': fc.constantFrom('13', '8', '12', '14', '', '013', '13.0', '0xd', '13, 8', ' 13', '-13', '1e1', 'thirteen'),
  'Sec-WebSocket-Protocol': fc.oneof(token, fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => t.join(', ')), fc.constantFrom('', ',', 'a,,b', 'a b', 'chat, chat', '"x"')),
  'Sec-WebSocket-Extensions': fc.constantFrom('permessage-deflate', 'permessage-deflate; client_max_window_bits', 'permessage-deflate; server_max_window_bits=7', 'x-webkit-deflate-frame', ';;', '', 'permessage-deflate; =', 'a, b; c="d'),
  Origin: fc.constantFrom('http://127.0.0.1:8787', 'null', 'https://evil.example', ''),
  'Content-Length': fc.constantFrom('0', '5', '-1', '99999999999999999999', 'abc', '0, 0'),
  'Transfer-Encoding': fc.constantFrom('chunked', 'gzip, chunked', 'identity', ''),
  Expect: fc.constantFrom('100-continue', 'x'),
  'User-Agent': fc.oneof(latin1, fc.constant('lanconf-fuzz')),
};
const NAMES = Object.keys(valueOf);

const honestHeaders: Array<[string, string]> = [
  ['Host', '127.0.0.1'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', GOOD_KEY], ['Sec-WebSocket-Version', '13'],
];

type HeaderEdit =
  | { op: 'drop'; at: number } | { op: 'dup'; at: number } | { op: 'set'; at: number; value: string }
  | { op: 'add'; name: string; value: string } | { op: 'case'; at: number; how: 'lower' | 'upper' | 'space' }
  | { op: 'long'; at: number; size: number };

const headerEdit: fc.Arbitrary<HeaderEdit> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
  fc.constantFrom(...NAMES).chain((name) => fc.record({ op: fc.constant('add' as const), name: fc.constant(name), value: valueOf[name]! })),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(latin1, fc.constantFrom('', ' ', '\t', 'a\r\nX-Injected: 1')) }),
  fc.record({ op: fc.constant('case' as const), at: fc.nat(), how: fc.constantFrom('lower' as const, 'upper' as const, 'space' as const) }),
  fc.record({ op: fc.constant('long' as const), at: fc.nat(), size: fc.constantFrom(8000, 17_000, 70_000) }),
);

function applyHeaderEdit(headers: Array<[string, string]>, e: HeaderEdit): Array<[string, string]> {
  const out = headers.map(([n, v]) => [n, v] as [string, string]);
  const at = out.length === 0 ? 0 : ('at' in e ? e.at : 0) % out.length;
  switch (e.op) {
    case 'drop': out.splice(at, 1); break;
    case 'dup': if (out[at]) out.splice(at, 0, [...out[at]!]); break;
    case 'set': if (out[at]) out[at]![1] = e.value; break;
    case 'add': out.splice(at, 0, [e.name, e.value]); break;
    case 'case': if (out[at]) out[at]![0] = e.how === 'lower' ? out[at]![0].toLowerCase() : e.how === 'upper' ? out[at]![0].toUpperCase() : `${out[at]![0]} `; break;
    case 'long': if (out[at]) out[at]![1] = 'a'.repeat(e.size); break;
  }
  return out;
}

const structured: fc.Arbitrary<HandshakeInput> = fc.record({
  method: fc.oneof({ weight: 10, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('get', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'PRI', 'G ET', '') }),
  target: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('/', '/room?x=1', '/.well-known/lanconf', '/files/0123456789abcdef') },
    { weight: 1, arbitrary: fc.constantFrom('*', 'http://127.0.0.1/', '//x', '/%00', '/a b', `/${'x'.repeat(9000)}`, '', '/\u00ff') }),
  version: fc.oneof({ weight: 10, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', '') }),
  edits: fc.array(headerEdit, { maxLength: 4 }),
  eol: fc.oneof({ weight: 10, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r') }),
  end: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  tail: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')) }),
  thenJoin: fc.nat({ max: 24 }).map((n) => n === 0),
}).map((r) => ({
  head: { method: r.method, target: r.target, version: r.version, headers: r.edits.reduce(applyHeaderEdit, honestHeaders), eol: r.eol, end: r.end, tail: r.tail },
  thenJoin: r.thenJoin,
}));

export const wsHandshakeTarget: FuzzTarget<HandshakeInput> = {
  name: 'ws-handshake',
  parser: 'WebSocket upgrade request head (Node HTTP parser → relay/Relay.ts `upgrade` → `ws` `handleUpgrade`, relay/wsLink.ts), through a real relay',
  quickRuns: 800,
  arbitrary(seeds) {
    const seedBytes = seeds.map(bytesOf);
    const raw = (b: fc.Arbitrary<Uint8Array>) => fc.tuple(b, fc.boolean()).map(([bytes, j]) => ({ bytes, thenJoin: j && bytes.byteLength % 8 === 0 }));
    return oneOf<HandshakeInput>(
      structured,
      structured,
      raw(mutateBytes(structured.map(bytesOf), seedBytes, 3)),
      seedBytes.length ? raw(mutatedSeeds(seedBytes, 3)!) : undefined,
    );
  },
  async open() {
    const relay: TestRelay = await startRelay();
    const port = relay.addresses.port;
    const check = async (input: HandshakeInput): Promise<string> => {
      const bytes = bytesOf(input);
      const text = Buffer.from(bytes).toString('latin1');
      const finished = text.includes('\r\n\r\n') || text.includes('\n\n');
      const { received, closed } = await exchange(port, bytes, finished);
      const what = `the request ${show(text, 300)}`;
      const answer = received.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(answer)?.[1];
      ensure(status !== undefined || (closed && received.byteLength === 0), 'handshake:no-answer',
        () => `${what} got ${received.byteLength ? `bytes that are not an HTTP answer: ${show(answer)}` : 'no answer and no close'} ${closed ? '(closed)' : 'within the time allowed'}`);
      const v = verdict(input);
      if (status === '101') {
        ensure(v !== 'no', 'handshake:accepts-invalid', () => `${what} was answered 101 Switching Protocols; RFC 6455 §4.2.1 refuses it`);
        const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
        const keys = input.head ? values(input.head, 'sec-websocket-key') : [];
        if (keys.length === 1) {
          const accept = createHash('sha1').update(keys[0]! + GUID).digest('base64');
          ensure(headerOf(head, 'sec-websocket-accept')[0] === accept, 'handshake:wrong-accept', () => `${what}: Sec-WebSocket-Accept ${show(headerOf(head, 'sec-websocket-accept'))}, not ${accept}`);
        }
        ensure(headerOf(head, 'sec-websocket-extensions').length === 0, 'handshake:extension', () => `${what}: the 101 accepts extensions ${show(headerOf(head, 'sec-websocket-extensions'))} (compression is off)`);
        const chosen = headerOf(head, 'sec-websocket-protocol');
        if (chosen.length > 0 && input.head) {
          const offered = values(input.head, 'sec-websocket-protocol').flatMap((p) => p.split(',').map((t) => t.trim()));
          ensure(chosen.length === 1 && offered.includes(chosen[0]!), 'handshake:protocol', () => `${what}: the 101 chose subprotocol ${show(chosen)}, offered ${show(offered)}`);
        }
      } else if (v === 'yes') {
        fail('handshake:refuses-valid', `${what} is a valid handshake but got ${status ?? 'a close'}: ${show(answer)}`);
      }
      if (input.thenJoin) {
        try {
          await honestJoin(relay, 'Fuzz handshake');
        } catch (error) {
          fail('handshake:relay-broken', `after ${what}, an honest join failed: ${(error as Error).message}`, error);
        }
      }
      return `${status ?? 'closed'}:${v}`;
    };
    return {
      async: true,
      check,
      close: async () => {
        try {
          await honestJoin(relay, 'Fuzz handshake');
        } catch (error) {
          fail('handshake:relay-broken', `after the run, an honest join failed: ${(error as Error).message}`, error);
        } finally {
          await relay.relay.close();
        }
      },
    };
  },
  toJson: (input) => (input.bytes ? { bytes: bytesToJson(input.bytes), thenJoin: input.thenJoin } : { head: input.head, thenJoin: input.thenJoin }),
  fromJson: (json) => {
    const j = json as { head?: HandshakeInput['head']; bytes?: string; thenJoin?: boolean };
    return j.bytes !== undefined ? { bytes: bytesFromJson(j.bytes), thenJoin: !!j.thenJoin } : { head: j.head!, thenJoin: !!j.thenJoin };
  },
};
