// Elements loaded on first use (components/shared/elements.ts): what the drop-in bundle relies on. This file
// imports only <lan-meeting> (with its pre-join screen, grid and controls), as the bundle's entry does.
import { expect, fixture, html } from '@open-wc/testing';
import '../../components/meeting/meeting.js';
import type { LanMeeting } from '../../components/meeting/meeting.component.js';
import { ELEMENTS, LAZY_ELEMENTS, autoloadElements, loadElement } from '../../components/shared/elements.js';
import { relay, uniqueMeeting, waitUntil } from './helpers.js';

describe('elements loaded on first use', () => {
  it('are not defined before they are used; the first screen\'s are', () => {
    for (const tag of ['lan-meeting', 'lan-prejoin', 'lan-video-grid', 'lan-controls']) {
      expect(customElements.get(tag), tag).to.not.equal(undefined);
    }
    expect(customElements.get('lan-participants')).to.equal(undefined);
    expect(customElements.get('lan-files')).to.equal(undefined);
    expect([...LAZY_ELEMENTS].every((tag) => ELEMENTS.includes(tag))).to.equal(true);
  });

  it('a <lan-participants> put in the page is defined and upgraded, keeping what was set on it before', async () => {
    autoloadElements();
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const el = document.createElement('lan-participants');
    (el as unknown as { headingLevel: number }).headingLevel = 4;
    host.append(el);
    await waitUntil(() => customElements.get('lan-participants') !== undefined, 'the tag is defined once an element of it is in the page');
    expect(el).to.be.instanceOf(customElements.get('lan-participants')!);
    await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    expect(el.headingLevel).to.equal(4);
    expect(el.shadowRoot!.querySelector('[part="heading"]')!.getAttribute('aria-level'), 'rendered with the level set before the upgrade').to.equal('4');
  });

  it('loadElement() defines a tag once and resolves with its class', async () => {
    const [a, b] = await Promise.all([loadElement('lan-files'), loadElement('lan-files')]);
    expect(a).to.equal(customElements.get('lan-files'));
    expect(b).to.equal(a);
    expect(await loadElement('lan-files')).to.equal(a);
  });

  it('<lan-meeting> loads the chat, the participants and the Invite dialog when it joins', async () => {
    expect(customElements.get('lan-chat')).to.equal(undefined);
    const el = await fixture<LanMeeting>(html`<lan-meeting relay=${await relay()} meeting=${uniqueMeeting('Lazy')} name="Ana"
      style="height: 600px"></lan-meeting>`);
    const session = await el.join();
    try {
      await waitUntil(() => ['lan-chat', 'lan-invite'].every((tag) => customElements.get(tag)), 'the meeting\'s elements are defined');
      await el.updateComplete;
      expect(el.shadowRoot!.querySelector('lan-chat')).to.be.instanceOf(customElements.get('lan-chat')!);
      expect(el.shadowRoot!.querySelector('lan-invite')).to.be.instanceOf(customElements.get('lan-invite')!);
    } finally {
      await session.leave();
    }
  });
});
