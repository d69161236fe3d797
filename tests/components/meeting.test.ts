/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/meeting/meeting.js';
import type { LanMeeting } from '../../components/meeting/meeting.component.js';
import { emit } from '../../components/shared/events.js';
import type { LanError, Session } from '../../sdk/index.js';
import { joinTest, relay, uniqueMeeting, waitUntil } from './helpers.js';

const sessions: Session[] = [];

function part<K extends keyof HTMLElementTagNameMap>(el: LanMeeting, selector: K): HTMLElementTagNameMap[K] | null;
function part(el: LanMeeting, selector: string): HTMLElement | null;
function part(el: LanMeeting, selector: string): HTMLElement | null {
  return el.shadowRoot!.querySelector<HTMLElement>(selector);
}

/** Text of an element and of every shadow root under it. */
function deepText(node: Node): string {
  let text = '';
  const walk = (n: Node) => {
    if (n.nodeType === Node.TEXT_NODE) text += n.textContent;
    if (n instanceof Element && n.shadowRoot) walk(n.shadowRoot);
    for (const child of n.childNodes) walk(child);
  };
  walk(node);
  return text.replace(/\s+/g, ' ');
}

/** A button of the control bar, by its part (`chat-button`, `leave-button`…). */
function controlButton(el: LanMeeting, name: string): HTMLButtonElement {
  return part(el, 'lan-controls')!.shadowRoot!.querySelector<HTMLButtonElement>(`button[part~="${name}"]`)!;
}

async function joinedMeeting(name = 'Ana', extra: { theme?: string; width?: string } = {}): Promise<LanMeeting> {
  const meeting = uniqueMeeting('M');
  const el = await fixture<LanMeeting>(html`<lan-meeting relay=${await relay()} meeting=${meeting} name=${name} autojoin
    theme=${extra.theme ?? 'light'} style=${`height: 560px; width: ${extra.width ?? '960px'}; display: block`}></lan-meeting>`);
  if (el.stage !== 'joined') await oneEvent(el, 'lan-joined');
  await el.updateComplete;
  return el;
}

describe('<lan-meeting>', () => {
  const meetings: LanMeeting[] = [];
  afterEach(async () => {
    await Promise.all(meetings.splice(0).map((m) => m.leave()));
    await Promise.all(sessions.splice(0).map((s) => s.leave()));
  });

  it('shows the pre-join screen pre-filled when it is not asked to join at once', async () => {
    const el = await fixture<LanMeeting>(html`<lan-meeting relay=${await relay()} meeting="Standup" name="Ana" passcode="pw"></lan-meeting>`);
    const prejoin = part(el, 'lan-prejoin')!;
    expect(prejoin).to.exist;
    await prejoin.updateComplete;
    expect(prejoin.meeting).to.equal('Standup');
    expect(prejoin.name).to.equal('Ana');
    expect(prejoin.passcode).to.equal('pw');
    expect(part(el, 'lan-video-grid')).to.equal(null);
    expect(el.stage).to.equal('prejoin');
    await expect(el).to.be.accessible();
  });

  it('joins through its pre-join screen and announces lan-joined once, from itself', async () => {
    const meeting = uniqueMeeting('M');
    const el = await fixture<LanMeeting>(html`<lan-meeting relay=${await relay()} meeting=${meeting} name="Ben" style="height: 560px"></lan-meeting>`);
    const prejoin = part(el, 'lan-prejoin')!;
    await prejoin.updateComplete;
    let count = 0;
    el.addEventListener('lan-joined', () => count++);
    const joined = oneEvent(el, 'lan-joined');
    prejoin.shadowRoot!.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    const event = await joined;
    meetings.push(el);
    expect(event.target).to.equal(el);
    expect(event.detail.session).to.equal(el.session);
    await el.updateComplete;
    expect(count).to.equal(1);
    expect(part(el, 'lan-video-grid')).to.exist;
    expect(part(el, 'lan-prejoin')).to.equal(null);
  });

  it('autojoin joins at once: the grid and controls render, fed the session by context', async () => {
    const el = await joinedMeeting('Ana');
    meetings.push(el);
    expect(el.session?.state).to.equal('connected');
    expect(part(el, 'lan-prejoin')).to.equal(null);
    expect(part(el, 'lan-video-grid')).to.exist;
    expect(part(el, 'lan-controls')).to.exist;
    expect([...el.session!.local.tracks.values()].map((t) => t.kind).sort()).to.deep.equal(['camera', 'microphone']);
    // The elements inside got the session from the context: Ana's own tile and Ben's show up in them.
    const other = await joinTest(el.session!.meeting, 'Ben');
    sessions.push(other);
    await waitUntil(() => /Ben/.test(deepText(part(el, '.stage')!)), 'the grid shows Ben', 8000);
    expect(part(el, 'header')!.textContent).to.match(/2 people/);
    await waitUntil(() => /Ben joined/.test(part(el, '[role="status"][aria-live]')!.textContent ?? ''), 'Ben\'s arrival is announced');
    await expect(el).to.be.accessible();
  });

  it('a lan-toggle for the chat opens the side panel; Escape and the close button close it', async () => {
    const el = await joinedMeeting('Ana');
    meetings.push(el);
    const panel = part(el, '.panel')!;
    expect(panel.hidden).to.equal(true);
    controlButton(el, 'chat-button').click();
    await el.updateComplete;
    expect(controlButton(el, 'chat-button').getAttribute('aria-pressed')).to.equal('true');
    expect(el.panel).to.equal('chat');
    expect(panel.hidden).to.equal(false);
    expect(part(el, 'lan-chat')!.hidden).to.equal(false);
    expect(part(el, 'lan-files')!.hidden).to.equal(true);
    expect(part(el, '#panel-title')!.textContent).to.equal('Chat');
    await expect(el).to.be.accessible();
    part(el, 'lan-chat')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }));
    await el.updateComplete;
    expect(panel.hidden).to.equal(true);
    await part(el, 'lan-controls')!.updateComplete;
    expect(controlButton(el, 'chat-button').getAttribute('aria-pressed'), 'the chat button follows').to.equal('false');
    emit(part(el, 'lan-controls')!, 'lan-toggle', { control: 'participants', on: true });
    await el.updateComplete;
    expect(part(el, '#panel-title')!.textContent).to.equal('People');
    expect(part(el, 'lan-participants')!.hidden).to.equal(false);
    part(el, '.panel-head button')!.click();
    await el.updateComplete;
    expect(el.panel).to.equal('');
  });

  it('counts chat from others while the chat is closed, and clears the count when it opens', async () => {
    const el = await joinedMeeting('Ana');
    meetings.push(el);
    const other = await joinTest(el.session!.meeting, 'Ben');
    sessions.push(other);
    await other.chat.send('hello Ana');
    await waitUntil(() => el.unread === 1, 'one unread message');
    await waitUntil(() => controlButton(el, 'chat-button').querySelector('[part="badge"]')?.textContent === '1', 'the badge shows 1');
    await other.chat.send('are you there?');
    await waitUntil(() => el.unread === 2, 'two unread messages');
    el.showPanel('chat');
    await waitUntil(() => el.unread === 0, 'the count cleared');
    await waitUntil(() => /are you there\?/.test(deepText(part(el, 'lan-chat')!)), 'the chat shows the messages');
  });

  it('the leave button leaves: lan-left, then an offer to rejoin', async () => {
    const el = await joinedMeeting('Ana');
    const session = el.session!;
    const left = oneEvent(el, 'lan-left');
    controlButton(el, 'leave-button').click();
    const { detail } = await left;
    expect(detail.error).to.equal(undefined);
    expect(session.state).to.equal('closed');
    expect(el.session).to.equal(undefined);
    await el.updateComplete;
    expect(part(el, '.card h2')!.textContent).to.equal('You left the meeting');
    await expect(el).to.be.accessible();
    part(el, '.card button')!.click();
    await el.updateComplete;
    expect(part(el, 'lan-prejoin')).to.exist;
  });

  it('moved within the page it stays in the meeting; removed from it, it leaves', async () => {
    const el = await joinedMeeting('Ana');
    const session = el.session!;
    const elsewhere = document.createElement('div');
    document.body.append(elsewhere);
    elsewhere.append(el);
    await new Promise((r) => setTimeout(r, 50));
    expect(session.state).to.equal('connected');
    const left = oneEvent(el, 'lan-left');
    elsewhere.remove();
    await left;
    expect(session.state).to.equal('closed');
  });

  it('an unreachable relay: the pre-join screen with the error (role=alert) and lan-error', async () => {
    const failed = new Promise<CustomEvent<{ error: Error }>>((resolve) =>
      document.addEventListener('lan-error', (e) => resolve(e), { once: true }));
    const el = await fixture<LanMeeting>(html`<lan-meeting relay="http://127.0.0.1:9" meeting="M" name="Ana" autojoin></lan-meeting>`);
    const { detail } = await failed;
    expect((detail.error as LanError).code).to.equal('LAN_ERR_UNREACHABLE');
    await el.updateComplete;
    expect(part(el, '[role="alert"]')!.textContent).to.contain('Cannot reach the relay');
    expect(part(el, 'lan-prejoin')).to.exist;
  });

  it('its children are fallback: not rendered once it is defined, except slot="actions" ones', async () => {
    const el = await fixture<LanMeeting>(html`<lan-meeting meeting="M" style="height: 480px">
      <p id="fallback">No meeting here? <a href="http://relay.local:8787/trust">Trust the meeting server</a>.</p>
      <button slot="actions" id="action">Help</button>
    </lan-meeting>`);
    const fallback = el.querySelector('#fallback')!;
    expect(fallback.checkVisibility()).to.equal(false);
    expect(fallback.getClientRects().length).to.equal(0);
    expect(el.querySelector('#action')!.checkVisibility(), 'slot="actions" goes to the top bar').to.equal(true);
    await expect(el).to.be.accessible();
  });

  it('the fallback shows while the tag is undefined (its script not loaded) and goes once it upgrades', async () => {
    // A page of its own, where <lan-meeting> is not defined yet.
    const frame = document.createElement('iframe');
    frame.style.cssText = 'width: 800px; height: 520px; border: 0';
    frame.srcdoc = `<!doctype html><html lang="en"><body>
      <lan-meeting meeting="M"><p id="fallback">No meeting here? <a href="http://relay.local:8787/trust">Trust the meeting server</a>.</p>
      <button slot="actions" id="action">Help</button></lan-meeting></body></html>`;
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    document.body.append(frame);
    try {
      await loaded;
      const doc = frame.contentDocument!;
      const fallback = doc.getElementById('fallback')!;
      expect(doc.querySelector('lan-meeting')!.matches(':not(:defined)')).to.equal(true);
      expect(fallback.checkVisibility()).to.equal(true);
      expect(fallback.getBoundingClientRect().height).to.be.greaterThan(0);
      const script = doc.createElement('script');
      script.type = 'module';
      script.textContent = "import '/components/meeting/meeting.ts';";
      doc.head.append(script);
      await waitUntil(() => frame.contentWindow!.customElements.get('lan-meeting'), 'the element is defined in that page', 15000);
      const meeting = doc.querySelector('lan-meeting')!;
      await (meeting as unknown as { updateComplete: Promise<unknown> }).updateComplete;
      expect(meeting.matches(':defined')).to.equal(true);
      expect(fallback.checkVisibility(), 'the fallback is gone').to.equal(false);
      expect(doc.getElementById('action')!.checkVisibility()).to.equal(true);
    } finally {
      frame.remove();
    }
  });

  it('theme="dark" applies the dark palette to itself and to every element inside', async () => {
    const el = await joinedMeeting('Ana', { theme: 'dark' });
    meetings.push(el);
    expect(getComputedStyle(part(el, 'header')!).backgroundColor).to.equal('rgb(17, 21, 28)');
    expect(getComputedStyle(part(el, '.base')!).backgroundColor).to.equal('rgb(28, 34, 45)');
    expect(getComputedStyle(part(el, 'lan-chat')!).getPropertyValue('--lan-color-bg').trim()).to.equal('#11151c');
    el.theme = 'light';
    await el.updateComplete;
    expect(getComputedStyle(part(el, 'header')!).backgroundColor).to.equal('rgb(255, 255, 255)');
    await expect(el).to.be.accessible();
  });

  it('at 360 px wide the side panel covers the whole meeting, bars included', async () => {
    const el = await joinedMeeting('Ana', { width: '360px' });
    meetings.push(el);
    el.showPanel('chat');
    await el.updateComplete;
    const panel = part(el, '.panel')!.getBoundingClientRect();
    const body = part(el, '.base')!.getBoundingClientRect();
    expect(getComputedStyle(part(el, '.panel')!).position).to.equal('absolute');
    expect(panel.width).to.equal(body.width);
    expect(panel.height).to.equal(body.height);
    await expect(el).to.be.accessible();
  });
});
