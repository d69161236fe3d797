/**
 * `npm run fuzz`: fuzzes every target (or those named in `FUZZ_TARGETS=a,b`) for `FUZZ_SECONDS` each
 * (default 60), then keeps what it learned in the repo:
 *
 * 1. replays the target's past findings (marking each `open` or `fixed`) and its corpus;
 * 2. runs fast-check with a time limit (`interruptAfterTimeLimit`) and no practical run limit, on inputs
 *    generated afresh and mutated from the corpus; a failure is shrunk, written to
 *    `tests/fuzz/findings/<target>.json`, and fuzzing goes on (that rule now counts as known);
 * 3. writes `tests/fuzz/corpus/<target>.json` (≤ 200 inputs, as many outcomes as possible), the figures
 *    to `tests/fuzz/results.json`, and the table between the `fuzz-table` markers of docs/security.md.
 *
 * `FUZZ_SEED=n` makes the first round of each target reproducible.
 * @module
 */
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Collector, FUZZ_DIR, asFinding, chooseCorpus, fullStack, propertyOf, readCorpus, readFindings, writeCorpus, writeFindings,
  type CorpusEntry, type FindingRecord,
} from './harness.js';
import { FuzzFinding, type FuzzTarget } from './target.js';
import { TARGETS } from './targets/index.js';

/** The figures of one target's last run. */
interface TargetResult {
  seconds: number;
  inputs: number;
  outcomes: number;
  corpus: number;
  newFindings: number;
  openFindings: number;
  fixedFindings: number;
  date: string;
}

const RESULTS = join(FUZZ_DIR, 'results.json');
const DOC = join(FUZZ_DIR, '..', '..', 'docs', 'security.md');

const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
const wanted = process.env.FUZZ_TARGETS?.split(',').map((s) => s.trim()).filter(Boolean);
const firstSeed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
if (!(seconds > 0)) throw new TypeError(`FUZZ_SECONDS must be a positive number, not ${process.env.FUZZ_SECONDS}`);
const unknown = wanted?.filter((name) => !TARGETS.some((t) => t.name === name)) ?? [];
if (unknown.length) throw new TypeError(`unknown fuzz target(s) ${unknown.join(', ')}; there are ${TARGETS.map((t) => t.name).join(', ')}`);

/** A crash of the process while a network target runs is a finding of that target. */
let running: { target: FuzzTarget<unknown>; collector: Collector; crashes: unknown[] } | undefined;
process.on('uncaughtException', (error) => {
  if (!running) throw error;
  running.crashes.push(error);
});
process.on('unhandledRejection', (error) => {
  if (!running) throw error;
  running.crashes.push(error);
});

function record(target: FuzzTarget<unknown>, findings: FindingRecord[], finding: FuzzFinding, input: unknown, seed?: number, path?: string | null): boolean {
  const now = new Date().toISOString();
  const existing = findings.find((f) => f.key === finding.key);
  if (existing) {
    existing.status = 'open';
    existing.lastSeen = now;
    return false;
  }
  findings.push({
    key: finding.key,
    status: 'open',
    title: finding.message.split('\n')[0]!.slice(0, 300),
    input: target.toJson(input),
    message: finding.message.slice(0, 4000),
    stack: fullStack(finding),
    firstSeen: now,
    lastSeen: now,
    ...(seed === undefined ? {} : { seed }),
    ...(path === undefined ? {} : { path }),
  });
  return true;
}

async function fuzz(target: FuzzTarget<unknown>): Promise<TargetResult> {
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const findings = readFindings(target);
  const corpusEntries = readCorpus(target);
  const corpus = corpusEntries.map((e) => target.fromJson(e.input));
  const collector = new Collector(target);
  const check = await target.open();
  running = { target, collector, crashes: [] };
  let added = 0;
  try {
    // 1. Past findings: still open, or fixed?
    for (const f of findings) {
      collector.inputs++;
      try {
        await check.check(target.fromJson(f.input));
        if (f.status === 'open') console.log(`  ${target.name}: finding ${f.key} passes now: fixed`);
        f.status = 'fixed';
      } catch (error) {
        const again = asFinding(target.name, error);
        if (f.status === 'fixed') console.log(`  ${target.name}: finding ${f.key} is back (${again.key})`);
        f.status = 'open';
        f.lastSeen = new Date().toISOString();
      }
    }
    const known = new Set(findings.filter((f) => f.status === 'open').map((f) => f.key));
    // 2. The corpus, for its outcomes (an input of the corpus that now fails is a finding).
    for (const input of corpus) {
      collector.inputs++;
      try {
        collector.record(await check.check(input), input);
      } catch (error) {
        const finding = asFinding(target.name, error);
        if (!known.has(finding.key) && record(target, findings, finding, input)) added++;
        known.add(finding.key);
      }
    }
    // 3. Fuzz until the deadline; after a finding, go on with that rule known.
    const arbitrary = target.arbitrary(corpus);
    for (let round = 0; Date.now() < deadline - 20; round++) {
      const seed = round === 0 && firstSeed !== undefined ? firstSeed : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
      const details = await fc.check(propertyOf(target, check, arbitrary, known, collector), {
        numRuns: Number.MAX_SAFE_INTEGER,
        seed,
        plugins: [fc.interruptAfterTimeLimit(Math.max(1, deadline - Date.now()))],
      });
      if (!details.failed) break;
      const finding = asFinding(target.name, details.errorInstance);
      const input = (details.counterexample as [unknown] | null)?.[0];
      if (record(target, findings, finding, input, details.seed, details.counterexamplePath)) {
        added++;
        console.log(`  ${target.name}: NEW finding ${finding.key}: ${finding.message.split('\n')[0]!.slice(0, 200)}`);
      }
      known.add(finding.key);
    }
  } finally {
    try {
      await check.close();
    } catch (error) {
      const finding = asFinding(target.name, error);
      if (record(target, findings, finding, collector.last)) added++;
    }
    for (const crash of running.crashes) {
      const finding = new FuzzFinding(`${target.name}:process-crash`, `the process had an uncaught ${String(crash)} while fuzzing`, { cause: crash });
      if (record(target, findings, finding, collector.last)) added++;
    }
    running = undefined;
  }
  const candidates: CorpusEntry[] = [...collector.outcomes.values()].flat();
  const chosen = chooseCorpus(candidates);
  writeCorpus(target, chosen);
  writeFindings(target, findings);
  return {
    seconds: Math.round((Date.now() - started) / 100) / 10,
    inputs: collector.inputs,
    outcomes: collector.outcomes.size,
    corpus: chosen.length,
    newFindings: added,
    openFindings: findings.filter((f) => f.status === 'open').length,
    fixedFindings: findings.filter((f) => f.status === 'fixed').length,
    date: new Date().toISOString().slice(0, 10),
  };
}

function table(results: Record<string, TargetResult>): string {
  const rows = TARGETS.filter((t) => results[t.name]).map((t) => {
    const r = results[t.name]!;
    return `| \`${t.name}\` | ${t.parser} | ${r.seconds} | ${r.inputs.toLocaleString('en-US')} | ${r.outcomes} | ${r.corpus} | ${r.newFindings} | ${r.openFindings} | ${r.fixedFindings} | ${r.date} |`;
  });
  return [
    '| target | parser | seconds | inputs run | distinct outcomes | corpus kept | new findings | open findings | fixed findings | run on |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}

const results: Record<string, TargetResult> = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, TargetResult> : {};
for (const target of TARGETS) {
  if (wanted && !wanted.includes(target.name)) continue;
  console.log(`fuzzing ${target.name} for ${seconds} s…`);
  const result = await fuzz(target);
  results[target.name] = result;
  console.log(`  ${target.name}: ${result.inputs} inputs, ${result.outcomes} outcomes, corpus ${result.corpus}, findings: ${result.newFindings} new, ${result.openFindings} open, ${result.fixedFindings} fixed`);
}
writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
const text = table(results);
console.log(`\n${text}`);
if (existsSync(DOC)) {
  const doc = readFileSync(DOC, 'utf8');
  const start = '<!-- fuzz-table:start -->';
  const end = '<!-- fuzz-table:end -->';
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) {
    writeFileSync(DOC, `${doc.slice(0, from + start.length)}\n${text}\n${doc.slice(to)}`);
    console.log('docs/security.md: table updated');
  }
}
// Network targets may leave sockets the relay's close has not reaped yet.
process.exit(0);
