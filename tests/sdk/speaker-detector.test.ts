// Active-speaker detection on a virtual clock: each participant sends an audio packet every 20 ms with the level
// and voice flag of a scripted talk, and the test reads who became the active speaker when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerDetector, type SpeakerDetectorOptions } from '../../sdk/media/SpeakerDetector.js';

/** Someone talking from `from` to `to` (ms) at `level` (−dBov); outside it they send silence (level 127, no voice). */
interface Talk {
  id: string;
  from: number;
  to: number;
  level: number;
  /** The sender's voice flag during the talk. Default true. */
  voice?: boolean;
}

interface Script {
  talks: Talk[];
  /** Participants who send no packets at all outside their talks (muted), instead of silence. */
  muted?: string[];
  until: number;
  options?: SpeakerDetectorOptions;
}

/** Runs the script; returns the changes as `"time:id"` and the detector. */
function play(script: Script): { changes: string[]; detector: SpeakerDetector } {
  const detector = new SpeakerDetector(script.options);
  const changes: string[] = [];
  let now = 0;
  detector.on('changed', (current) => changes.push(`${now}:${current ?? '-'}`));
  const ids = [...new Set(script.talks.map((t) => t.id))];
  for (now = 0; now <= script.until; now += 20) {
    for (const id of ids) {
      const talk = script.talks.find((t) => t.id === id && now >= t.from && now < t.to);
      if (talk) detector.update(id, talk.level, talk.voice ?? true, now);
      else if (!script.muted?.includes(id)) detector.update(id, 127, false, now);
    }
    detector.tick(now);
  }
  return { changes, detector };
}

/** `"time:id"` → [time, id]. */
function parse(change: string): [number, string] {
  const [time, id] = change.split(':');
  return [Number(time), id!];
}

const cases: Array<{ name: string; script: Script; expect: Array<[id: string, fromMs: number, toMs: number]> }> = [
  {
    name: 'one speaker takes the floor after ~300 ms of speech',
    script: { talks: [{ id: 'ana', from: 0, to: 2000, level: 20 }], until: 2000 },
    expect: [['ana', 280, 320]],
  },
  {
    name: 'a short interjection (200 ms), even a loud one, does not take over',
    script: { talks: [{ id: 'ana', from: 0, to: 3000, level: 25 }, { id: 'bo', from: 1000, to: 1200, level: 5 }], until: 3000 },
    expect: [['ana', 280, 320]],
  },
  {
    name: 'someone who is not clearly louder (3 dB) does not take over while the speaker talks',
    script: { talks: [{ id: 'ana', from: 0, to: 4000, level: 20 }, { id: 'bo', from: 500, to: 4000, level: 17 }], until: 4000 },
    expect: [['ana', 280, 320]],
  },
  {
    name: 'someone clearly louder (10 dB) for ~300 ms takes over while the speaker still talks',
    script: { talks: [{ id: 'ana', from: 0, to: 4000, level: 30 }, { id: 'bo', from: 1000, to: 4000, level: 20 }], until: 4000 },
    expect: [['ana', 280, 320], ['bo', 1280, 1340]],
  },
  {
    name: 'the speaker holds the floor ~1 s after going quiet; then the next speaker (as loud) takes over',
    script: { talks: [{ id: 'ana', from: 0, to: 1000, level: 20 }, { id: 'bo', from: 1100, to: 4000, level: 20 }], until: 4000 },
    expect: [['ana', 280, 320], ['bo', 1960, 2020]],
  },
  {
    name: 'the hold works the same when the speaker mutes (sends nothing at all)',
    script: { talks: [{ id: 'ana', from: 0, to: 1000, level: 20 }, { id: 'bo', from: 1100, to: 4000, level: 20 }], muted: ['ana'], until: 4000 },
    expect: [['ana', 280, 320], ['bo', 1960, 2020]],
  },
  {
    name: 'hysteresis: once taken over, the old speaker at their old level cannot take it back',
    script: {
      talks: [{ id: 'ana', from: 0, to: 5000, level: 30 }, { id: 'bo', from: 1000, to: 5000, level: 20 }],
      until: 5000,
    },
    expect: [['ana', 280, 320], ['bo', 1280, 1340]],
  },
  {
    name: 'a pause between words (200 ms) does not reset the run',
    script: { talks: [{ id: 'ana', from: 0, to: 200, level: 20 }, { id: 'ana', from: 400, to: 1000, level: 20 }], until: 1000 },
    expect: [['ana', 400, 460]],
  },
  {
    name: 'loud sound not flagged as voice is ignored',
    script: { talks: [{ id: 'ana', from: 0, to: 2000, level: 3, voice: false }], until: 2000 },
    expect: [],
  },
  {
    name: 'speechLevel: flagged voice quieter than −60 dBov is ignored when asked',
    script: { talks: [{ id: 'ana', from: 0, to: 2000, level: 80 }], until: 2000, options: { speechLevel: 60 } },
    expect: [],
  },
  {
    name: 'with nobody speaking afterwards, the last speaker stays active',
    script: { talks: [{ id: 'ana', from: 0, to: 1000, level: 20 }, { id: 'bo', from: 0, to: 0, level: 20 }], until: 5000 },
    expect: [['ana', 280, 320]],
  },
  {
    name: 'custom timing: takeoverMs 100, holdMs 300',
    script: {
      talks: [{ id: 'ana', from: 0, to: 1000, level: 20 }, { id: 'bo', from: 1020, to: 3000, level: 20 }],
      until: 3000, options: { takeoverMs: 100, holdMs: 300 },
    },
    expect: [['ana', 80, 120], ['bo', 1260, 1320]],
  },
];

for (const c of cases) {
  test(`speaker detector — ${c.name}`, () => {
    const { changes, detector } = play(c.script);
    assert.equal(changes.length, c.expect.length, `changes: ${changes.join(', ')}`);
    c.expect.forEach(([id, from, to], i) => {
      const [time, who] = parse(changes[i]!);
      assert.equal(who, id, `change ${i}: ${changes.join(', ')}`);
      assert.ok(time >= from && time <= to, `change ${i} to ${id} at ${time} ms, expected ${from}..${to}`);
    });
    assert.equal(detector.current(), c.expect.at(-1)?.[0]);
  });
}

test('speaker detector — two start together: the clearly louder one has the floor within ~600 ms, whoever was first', () => {
  for (const [first, second] of [['ana', 'bo'], ['bo', 'ana']] as const) {
    const { changes, detector } = play({
      talks: [{ id: first, from: 0, to: 2000, level: first === 'bo' ? 20 : 30 }, { id: second, from: 0, to: 2000, level: second === 'bo' ? 20 : 30 }],
      until: 2000,
    });
    assert.equal(detector.current(), 'bo', changes.join(', '));
    assert.ok(parse(changes.at(-1)!)[0] <= 620, changes.join(', '));
  }
});

test('speaker detector — the change event carries the previous speaker', () => {
  const detector = new SpeakerDetector();
  const seen: Array<[string | undefined, string | undefined]> = [];
  detector.on('changed', (current, previous) => seen.push([current, previous]));
  for (let t = 0; t <= 400; t += 20) detector.update('ana', 20, true, t);
  for (let t = 420; t <= 3000; t += 20) detector.update('bo', 20, true, t);
  assert.deepEqual(seen, [['ana', undefined], ['bo', 'ana']]);
});

test('speaker detector — remove() of the active speaker leaves nobody active until someone speaks', () => {
  const { detector } = play({ talks: [{ id: 'ana', from: 0, to: 1000, level: 20 }], until: 1000 });
  const seen: Array<string | undefined> = [];
  detector.on('changed', (current, previous) => seen.push(current, previous));
  detector.remove('ghost');
  detector.remove('ana');
  assert.equal(detector.current(), undefined);
  assert.deepEqual(seen, [undefined, 'ana']);
  for (let t = 1000; t <= 1400; t += 20) detector.update('bo', 20, true, t);
  assert.equal(detector.current(), 'bo');
});

test('speaker detector — ranking: active speaker, then earlier speakers by recency, then the rest', () => {
  const { detector } = play({
    talks: [
      { id: 'ana', from: 0, to: 1000, level: 20 },
      { id: 'bo', from: 2200, to: 3000, level: 20 },
      { id: 'cy', from: 4200, to: 5000, level: 20 },
      { id: 'dee', from: 5000, to: 5100, level: 20 }, // spoke briefly, never active
      { id: 'eve', from: 0, to: 0, level: 20 }, // never spoke
    ],
    until: 5200,
  });
  assert.equal(detector.current(), 'cy');
  assert.deepEqual(detector.ranking(), ['cy', 'bo', 'ana', 'dee', 'eve']);
});

test('speaker detector — isSpeaking() and levelDb() describe each participant', () => {
  const detector = new SpeakerDetector();
  for (let t = 0; t <= 400; t += 20) detector.update('ana', 20 + (t % 40 === 0 ? 4 : 0), true, t);
  assert.equal(detector.isSpeaking('ana', 400), true);
  assert.equal(detector.isSpeaking('ana', 1000), false);
  assert.equal(detector.isSpeaking('nobody', 400), false);
  const level = detector.levelDb('ana')!;
  assert.ok(level < -20 && level > -24, `smoothed between −20 and −24 dBov: ${level}`);
  assert.equal(detector.levelDb('nobody'), undefined);
});

test('speaker detector — out-of-range levels are clamped, not trusted', () => {
  const detector = new SpeakerDetector();
  for (let t = 0; t <= 400; t += 20) detector.update('ana', Number.NaN, true, t);
  for (let t = 0; t <= 400; t += 20) detector.update('bo', -50, true, t);
  assert.equal(detector.levelDb('ana'), -127);
  assert.equal(detector.levelDb('bo'), 0);
  assert.equal(detector.current(), 'bo');
});
