// The Custom Elements Manifest a page author's tools read (IDE completion, Storybook, docs): it must name files
// the package ships, give every event's detail type, and list the shared --lan-* tokens each element reads.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './cli-process.js';

interface Manifest {
  modules: Array<{ path: string; declarations?: Array<{ tagName?: string; customElement?: boolean; events?: Array<{ name: string; type?: { text: string } }>; cssProperties?: Array<{ name: string }> }> }>;
}

test('the custom elements manifest names shipped files, typed event details and the shared --lan-* tokens', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { customElements: string; files: string[] };
  const manifest = JSON.parse(readFileSync(join(ROOT, pkg.customElements), 'utf8')) as Manifest;
  const elements = manifest.modules.flatMap((m) => (m.declarations ?? []).filter((d) => d.customElement).map((d) => ({ module: m.path, d })));
  assert.ok(elements.length >= 8, `${elements.length} elements`);
  for (const { module, d } of elements) {
    assert.match(module, /^dist\/components\/.+\.js$/, `${d.tagName}: a shipped module, not source`);
    assert.ok(existsSync(join(ROOT, module)), `${module} exists after the build`);
    for (const event of d.events ?? []) assert.match(event.type?.text ?? '', /^CustomEvent<.+>$/, `${d.tagName} ${event.name} has its detail type`);
  }
  const meeting = elements.find((e) => e.d.tagName === 'lan-meeting')!.d;
  const css = (meeting.cssProperties ?? []).map((p) => p.name);
  assert.ok(css.includes('--lan-color-accent'), `lan-meeting lists the shared --lan-color-accent (${css.join(', ')})`);
  const controls = elements.find((e) => e.d.tagName === 'lan-controls')!.d;
  assert.equal(controls.events!.find((e) => e.name === 'lan-toggle')!.type!.text, 'CustomEvent<{ control: string; on: boolean }>');
});
