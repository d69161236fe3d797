/**
 * The fuzz targets as regression tests (`npm test`): for each target, every corpus input and every
 * past finding is replayed through its property, then a short, fixed fuzz run (the target's
 * `quickRuns` inputs, a fixed seed: the same inputs every run for the same corpus, so it cannot flake).
 * A finding still open fails its test until the bug is fixed; the short fuzz run does not fail again on
 * an open finding's rule (its own test already does). `npm run fuzz` is the long run (tests/fuzz/run.ts).
 */
import fc from 'fast-check';
import { after, before, describe, test } from 'node:test';
import { propertyOf, quickSeed, readCorpus, readFindings } from './harness.js';
import type { FuzzCheck } from './target.js';
import { TARGETS } from './targets/index.js';

for (const target of TARGETS) {
  describe(`fuzz target ${target.name}`, () => {
    let check: FuzzCheck<unknown> | undefined;
    before(async () => {
      check = await target.open();
    });
    after(async () => {
      await check?.close();
    });
    const corpus = readCorpus(target);
    const findings = readFindings(target);

    test(`${target.name}: every one of its ${corpus.length} corpus inputs still holds the properties`, async () => {
      for (const entry of corpus) await check!.check(target.fromJson(entry.input));
    });

    for (const finding of findings) {
      test(`${target.name}: the input of finding ${finding.key} (${finding.status}) holds the properties`, async () => {
        await check!.check(target.fromJson(finding.input));
      });
    }

    test(`${target.name}: ${target.quickRuns} fresh inputs (seed ${quickSeed(target.name)}) hold the properties`, async () => {
      const open = new Set(findings.filter((f) => f.status === 'open').map((f) => f.key));
      const arbitrary = target.arbitrary(corpus.map((e) => target.fromJson(e.input)));
      await fc.assert(propertyOf(target, check!, arbitrary, open), { numRuns: target.quickRuns, seed: quickSeed(target.name) });
    });
  });
}
