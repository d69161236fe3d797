/**
 * Fuzz target `http-range`: the `Range` header of the relay's file downloads (`HttpFiles.handle`,
 * relay/files/httpFiles.ts; its parser is not exported, so it is fuzzed through a real relay's HTTP
 * download link) against docs/protocol.md §7.7.
 *
 * Oracle, from §7.7: one range `bytes=<first>-<last>`, `bytes=<first>-` or `bytes=-<suffix>` (decimal
 * digits; surrounding white space ignored) gives `206` with `content-range: bytes <first>-<last>/<size>`
 * and exactly those bytes (`<last>` cut to the end); a first byte at or past the end, or after `<last>`,
 * gives `416` whose `content-range` is `bytes *` and `/<size>`; anything else (several ranges — several `Range` lines
 * are one list —, another unit, garbage) is ignored: `200` and the whole file. `content-length` is the
 * bytes of the answer; `HEAD` gets the same headers and no body. Three files are served: 0, 1 and 777 bytes.
 * @module
 */
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { mutateText, mutatedTextSeeds, oneOf } from '../mutate.js';
import { relayWithFiles, type SharedFileLink } from '../relayFixture.js';
import { ensure, fail, show, type FuzzTarget } from '../target.js';

/** An input: which file, the method, and the `Range` lines sent (none, one or several). */
export interface RangeInput {
  file: number;
  method: 'GET' | 'HEAD';
  ranges: string[];
}

const SIZES = [0, 1, 777];

type Want = { status: 200 } | { status: 206; first: number; last: number } | { status: 416 };

/** §7.7's rule, for a file of `size` bytes. */
function expected(ranges: readonly string[], size: number): { want: Want; form: string } {
  if (ranges.length === 0) return { want: { status: 200 }, form: 'none' };
  // Several field lines are one comma-separated list (RFC 9110 §5.3): several ranges, so ignored.
  const value = ranges.join(', ').trim();
  const m = /^bytes=([0-9]*)-([0-9]*)$/.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return { want: { status: 200 }, form: 'ignored' };
  const [, a, b] = m as unknown as [string, string, string];
  let first: number;
  let last = size - 1;
  let form: string;
  if (a === '') {
    first = Math.max(0, size - Number(b));
    form = 'suffix';
  } else {
    first = Number(a);
    if (b !== '') last = Math.min(Number(b), size - 1);
    form = b === '' ? 'from' : 'from-to';
  }
  if (first >= size || first > last) return { want: { status: 416 }, form };
  return { want: { status: 206, first, last }, form };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function fetchRaw(agent: Agent, base: string, input: RangeInput, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(url, base), { method: input.method, agent });
    if (input.ranges.length > 0) req.setHeader('range', input.ranges.length === 1 ? input.ranges[0]! : input.ranges);
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Header values Node's HTTP client sends as they are (it refuses others before sending). */
function sendable(text: string): string {
  return text.replace(/[^\t\x20-\x7e\x80-\xff]/g, 'x');
}

/** Positions around the three files' sizes, huge ones, and things that are not decimal digits. */
const number = fc.oneof(
  fc.constantFrom('', '0', '1', '2', '776', '777', '778', '00005', '99999999999999999999', '9007199254740993', '18446744073709551616'),
  fc.nat({ max: 1000 }).map(String),
  fc.constantFrom('-1', '1.5', ' 5', '+5', '0x10', '1e3', '５', '١', '5 ', 'NaN'),
);

const spec = fc.tuple(number, number, fc.constantFrom('a-b', 'a-b', 'a-b', 'a-', '-b', 'a', '-', '--b', 'a--b', 'a - b'))
  .map(([a, b, form]) => form.replace('a', a).replace('b', b));

const rangeValue = fc.tuple(
  fc.constantFrom('', ' ', '\t', '\u00a0'),
  fc.oneof({ weight: 8, arbitrary: fc.constant('bytes') }, { weight: 1, arbitrary: fc.constantFrom('Bytes', 'BYTES', 'byte', 'bytes ', 'items', '', 'none') }),
  fc.oneof({ weight: 8, arbitrary: fc.constant('=') }, { weight: 1, arbitrary: fc.constantFrom(' =', '= ', ':', '==', '') }),
  fc.oneof({ weight: 6, arbitrary: fc.array(spec, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(spec, { minLength: 0, maxLength: 4 }) }),
  fc.constantFrom(',', ', ', ' ,', ',,'),
  fc.constantFrom('', ' ', '\t', '\u00a0', ','),
).map(([pre, unit, eq, specs, sep, post]) => `${pre}${unit}${eq}${specs.join(sep)}${post}`);

export const httpRangeTarget: FuzzTarget<RangeInput> = {
  name: 'http-range',
  parser: '`Range` of `GET /files/…` (`HttpFiles.handle`, relay/files/httpFiles.ts), through a real relay',
  quickRuns: 2500,
  arbitrary(seeds) {
    const seedRanges = seeds.flatMap((s) => s.ranges);
    const one = oneOf(
      rangeValue,
      mutateText(rangeValue, 2),
      fc.string({ maxLength: 30 }),
      mutatedTextSeeds(seedRanges, 2),
    ).map(sendable);
    return fc.record({
      file: fc.nat({ max: SIZES.length - 1 }),
      method: fc.oneof({ weight: 5, arbitrary: fc.constant('GET' as const) }, { weight: 1, arbitrary: fc.constant('HEAD' as const) }),
      ranges: fc.oneof({ weight: 10, arbitrary: fc.array(one, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(one, { maxLength: 3 }) }),
    });
  },
  async open() {
    const { relay, files } = await relayWithFiles('Fuzz range', SIZES);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const check = async (input: RangeInput): Promise<string> => {
      const file: SharedFileLink = files[input.file % files.length]!;
      const size = file.bytes.byteLength;
      let answer: Answer;
      try {
        answer = await fetchRaw(agent, relay.url, input, file.url);
      } catch (error) {
        fail('range:no-answer', `GET with Range ${show(input.ranges)} got no answer: ${(error as Error).message}`, error);
      }
      const { want, form } = expected(input.ranges, size);
      const what = `${input.method} of the ${size}-byte file with Range ${show(input.ranges)}`;
      ensure(answer.status === want.status, `range:status-${want.status}`, () => `${what} answered ${answer.status}; §7.7 says ${want.status}`);
      const body = input.method === 'HEAD' ? Buffer.alloc(0) : answer.body;
      if (want.status === 416) {
        ensure(answer.headers['content-range'] === `bytes */${size}`, 'range:416-content-range', () => `${what}: content-range ${show(answer.headers['content-range'])}`);
        return `416:${form}`;
      }
      const [first, last] = want.status === 206 ? [want.first, want.last] : [0, size - 1];
      const length = size === 0 ? 0 : last - first + 1;
      ensure(Number(answer.headers['content-length']) === length, 'range:content-length',
        () => `${what}: content-length ${show(answer.headers['content-length'])}, not ${length}`);
      if (want.status === 206) {
        ensure(answer.headers['content-range'] === `bytes ${first}-${last}/${size}`, 'range:206-content-range',
          () => `${what}: content-range ${show(answer.headers['content-range'])}, not bytes ${first}-${last}/${size}`);
      } else {
        ensure(answer.headers['content-range'] === undefined, 'range:200-content-range', () => `${what}: a 200 with content-range ${show(answer.headers['content-range'])}`);
      }
      const wantBody = input.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(file.bytes.subarray(first, last + 1));
      ensure(body.equals(wantBody), 'range:body', () => `${what}: ${body.byteLength} bytes of body, not bytes ${first}–${last}`);
      return `${want.status}:${form}:${size === 0 ? 'empty' : size === 1 ? 'one' : 'file'}`;
    };
    return {
      async: true,
      check,
      close: async () => {
        agent.destroy();
        await relay.relay.close();
      },
    };
  },
  toJson: (input) => input,
  fromJson: (json) => json as RangeInput,
};
