/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { ContextProvider } from '@lit/context';
import '../../components/participants/participants.js';
import type { LanParticipants } from '../../components/participants/participants.js';
import { sessionContext } from '../../components/shared/context.js';
import type { Session } from '../../sdk/index.js';
import { joinTest, uniqueMeeting, waitUntil } from './helpers.js';

/** A moving picture from a canvas, as a camera or screen would give. */
function paintedTrack(width = 320, height = 240, fps = 10): { track: MediaStreamTrack; stop(): void } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  let t = 0;
  const timer = setInterval(() => {
    ctx.fillStyle = `hsl(${(t++ * 20) % 360} 70% 45%)`;
    ctx.fillRect(0, 0, width, height);
  }, 1000 / fps);
  const track = canvas.captureStream(fps).getVideoTracks()[0]!;
  return { track, stop: () => { clearInterval(timer); track.stop(); } };
}

/** A continuous tone: what the speaker detector hears as speech. */
function toneTrack(): { track: MediaStreamTrack; stop(): void } {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const tone = ctx.createOscillator();
  const gain = ctx.createGain();
  gain.gain.value = 0.3;
  const out = ctx.createMediaStreamDestination();
  tone.connect(gain).connect(out);
  tone.start();
  const track = out.stream.getAudioTracks()[0]!;
  return { track, stop: () => { track.stop(); void ctx.close(); } };
}

async function listFor(session: Session | undefined): Promise<LanParticipants> {
  const el = await fixture<LanParticipants>(html`<lan-participants .session=${session}></lan-participants>`);
  await el.updateComplete;
  return el;
}

const heading = (el: LanParticipants): string => el.shadowRoot!.querySelector('[part="heading"]')!.textContent!.trim();
const items = (el: LanParticipants): HTMLLIElement[] => [...el.shadowRoot!.querySelectorAll<HTMLLIElement>('li')];
const itemOf = (el: LanParticipants, id: string): HTMLLIElement | null => el.shadowRoot!.querySelector(`li[data-id="${id}"]`);
/** What a screen reader reads for an item: its text without the parts hidden from it. */
function spoken(item: Element): string {
  const copy = item.cloneNode(true) as Element;
  for (const hidden of copy.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
  return copy.textContent!.replace(/\s+/g, ' ').replace(/ ,/g, ',').trim();
}
const stateOf = (item: Element, which: 'mic' | 'camera' | 'screen'): string | null =>
  item.querySelector(`[part~="state-${which}"]`)?.getAttribute('data-state') ?? null;

describe('<lan-participants>', () => {
  it('lists you first, marked (you), then the host, then by name; counts everyone; follows joins and leaves', async () => {
    const meeting = uniqueMeeting('people');
    const ana = await joinTest(meeting, 'Ana');
    const zed = await joinTest(meeting, 'Zed');
    const el = await listFor(zed);
    await waitUntil(() => items(el).length === 2, 'two items');
    expect(heading(el)).to.equal('2 participants');
    const ben = await joinTest(meeting, 'Ben');
    await waitUntil(() => items(el).length === 3, 'Ben joins');
    expect(heading(el)).to.equal('3 participants');
    expect(items(el).map(spoken)).to.deep.equal([
      'Zed (you), microphone off, camera off',
      'Ana, Host, microphone off, camera off',
      'Ben, microphone off, camera off',
    ]);
    expect(items(el)[0]!.getAttribute('part')).to.equal('item self');
    expect(items(el).map((li) => li.dataset['id'])).to.deep.equal([zed.local.id, ana.local.id, ben.local.id]);
    await ana.leave();
    await waitUntil(() => items(el).length === 2, 'Ana leaves');
    expect(heading(el)).to.equal('2 participants');
    await ben.leave();
    await waitUntil(() => heading(el) === '1 participant', 'one left');
    await zed.leave();
    await waitUntil(() => heading(el) === 'Participants', 'no meeting once you left');
    expect(el.shadowRoot!.querySelector('[part="empty"]')!.textContent).to.equal('Not in a meeting.');
  });

  it('shows microphone, camera and screen state as they change, yours included', async () => {
    const meeting = uniqueMeeting('people');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const el = await listFor(a);
    await waitUntil(() => itemOf(el, b.local.id), 'Ben listed');
    const ben = () => itemOf(el, b.local.id)!;
    const tone = toneTrack();
    const mic = await b.publishMediaTrack(tone.track, 'microphone');
    const picture = paintedTrack();
    const camera = await b.publishMediaTrack(picture.track, 'camera');
    await waitUntil(() => stateOf(ben(), 'mic') === 'on' && stateOf(ben(), 'camera') === 'on', 'Ben’s mic and camera on');
    expect(spoken(ben())).to.equal('Ben, microphone on, camera on');
    await mic.mute();
    await waitUntil(() => stateOf(ben(), 'mic') === 'muted', 'Ben muted');
    expect(spoken(ben())).to.equal('Ben, microphone muted, camera on');
    const screenPicture = paintedTrack(640, 360);
    const screen = await b.publishScreen({ track: screenPicture.track });
    await waitUntil(() => stateOf(ben(), 'screen') === 'sharing', 'Ben shares his screen');
    expect(spoken(ben())).to.equal('Ben, microphone muted, camera on, sharing screen');
    await camera.unpublish();
    await screen.unpublish();
    await waitUntil(() => stateOf(ben(), 'camera') === 'off' && stateOf(ben(), 'screen') === null, 'camera and screen gone');

    // Your own tracks have no session event: the list still follows them.
    const me = () => itemOf(el, a.local.id)!;
    expect(stateOf(me(), 'camera')).to.equal('off');
    const cam = await a.publishCamera({ width: 320, height: 240, fps: 10 });
    await waitUntil(() => stateOf(me(), 'camera') === 'on', 'your camera on');
    await cam.mute();
    await waitUntil(() => stateOf(me(), 'camera') === 'off', 'your camera muted');
    tone.stop();
    picture.stop();
    screenPicture.stop();
    await a.leave();
    await b.leave();
  });

  it('marks the active speaker', async () => {
    const meeting = uniqueMeeting('people');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const el = await listFor(a);
    const tone = toneTrack();
    await b.publishMediaTrack(tone.track, 'microphone');
    await waitUntil(() => itemOf(el, b.local.id)?.querySelector('[part="speaking-indicator"]'), 'Ben speaking', 10_000);
    expect(itemOf(el, b.local.id)!.getAttribute('part')).to.equal('item speaking');
    expect(spoken(itemOf(el, b.local.id)!)).to.equal('Ben, speaking, microphone on, camera off');
    expect(itemOf(el, a.local.id)!.querySelector('[part="speaking-indicator"]')).to.equal(null);
    tone.stop();
    await a.leave();
    await b.leave();
  });

  it('is an accessible list named by its heading, at the level asked for', async () => {
    const meeting = uniqueMeeting('people');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const tone = toneTrack();
    const mic = await b.publishMediaTrack(tone.track, 'microphone');
    await mic.mute();
    const el = await fixture<LanParticipants>(html`<lan-participants heading-level="3" .session=${a}></lan-participants>`);
    await waitUntil(() => items(el).length === 2, 'two items');
    const head = el.shadowRoot!.querySelector('[part="heading"]')!;
    expect(head.getAttribute('role')).to.equal('heading');
    expect(head.getAttribute('aria-level')).to.equal('3');
    const list = el.shadowRoot!.querySelector('ul')!;
    expect(list.getAttribute('aria-labelledby')).to.equal(head.id);
    await expect(el).to.be.accessible();
    tone.stop();
    await a.leave();
    await b.leave();
  });

  it('takes the session from an enclosing provider', async () => {
    const meeting = uniqueMeeting('people');
    const a = await joinTest(meeting, 'Ana');
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const provider = new ContextProvider(host, { context: sessionContext, initialValue: undefined });
    const el = document.createElement('lan-participants');
    host.append(el);
    await el.updateComplete;
    expect(heading(el)).to.equal('Participants');
    await expect(el).to.be.accessible();
    provider.setValue(a);
    await waitUntil(() => heading(el) === '1 participant', 'your own item');
    expect(spoken(items(el)[0]!)).to.equal('Ana (you), Host, microphone off, camera off');
    await a.leave();
  });
});
