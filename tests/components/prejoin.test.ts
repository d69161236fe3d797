/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/prejoin/prejoin.js';
import type { LanPrejoin } from '../../components/prejoin/prejoin.component.js';
import { describeJoinError } from '../../components/prejoin/join.js';
import { ConnectionError, LanError, RelayError, UntrustedRelayError, type Session } from '../../sdk/index.js';
import { TEST_PASSCODE, guardedRelay, relay, uniqueMeeting, waitUntil } from './helpers.js';

const sessions: Session[] = [];

function field(el: LanPrejoin, id: string): HTMLInputElement {
  return el.shadowRoot!.querySelector<HTMLInputElement>(`#${id}`)!;
}

function joinButton(el: LanPrejoin): HTMLButtonElement {
  return el.shadowRoot!.querySelector<HTMLButtonElement>('button[type="submit"]')!;
}

describe('<lan-prejoin>', () => {
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.leave()));
  });

  it('pre-fills name, meeting and passcode from its attributes, each field labelled', async () => {
    const el = await fixture<LanPrejoin>(html`<lan-prejoin meeting="Standup" name="Ana" passcode="s3cret" camera-off microphone-off></lan-prejoin>`);
    expect(field(el, 'name').value).to.equal('Ana');
    expect(field(el, 'meeting').value).to.equal('Standup');
    expect(field(el, 'passcode').value).to.equal('s3cret');
    expect(field(el, 'passcode').type).to.equal('password');
    for (const id of ['name', 'meeting', 'passcode', 'camera-select', 'microphone-select']) {
      expect(el.shadowRoot!.querySelector(`label[for="${id}"]`), `a label for #${id}`).to.exist;
    }
    await expect(el).to.be.accessible();
  });

  it('previews the camera mirrored, lists the devices and shows a microphone meter', async () => {
    const el = await fixture<LanPrejoin>(html`<lan-prejoin meeting="M" name="Ana"></lan-prejoin>`);
    await waitUntil(() => el.shadowRoot!.querySelector('video')?.srcObject, 'the preview shows the camera', 8000);
    const video = el.shadowRoot!.querySelector('video')!;
    expect(getComputedStyle(video).transform).to.match(/^matrix\(-1, 0, 0, 1/);
    await waitUntil(() => el.shadowRoot!.querySelectorAll('#camera-select option').length > 0 && el.cameraId, 'the cameras are listed', 8000);
    expect(el.shadowRoot!.querySelectorAll('#microphone-select option').length).to.be.greaterThan(0);
    expect(el.shadowRoot!.querySelector('[role="meter"]')!.getAttribute('aria-label')).to.equal('Microphone level');
    // The fake microphone beeps about once a second: the meter moves.
    await waitUntil(() => Number(el.shadowRoot!.querySelector('[role="meter"]')!.getAttribute('aria-valuenow')) > 0, 'the meter moves', 8000);
    await expect(el).to.be.accessible();
    el.remove();
    expect((video.srcObject as MediaStream).getTracks().every((t) => t.readyState === 'ended'), 'the preview let go of the camera').to.equal(true);
  });

  it('turning the camera off stops the preview and joins without a camera', async () => {
    const meeting = uniqueMeeting('P');
    const el = await fixture<LanPrejoin>(html`<lan-prejoin relay=${await relay()} meeting=${meeting} name="Cam"></lan-prejoin>`);
    const toggle = el.shadowRoot!.querySelector<HTMLButtonElement>('button[aria-label="Turn camera off"]')!;
    toggle.click();
    await el.updateComplete;
    expect(el.cameraOff).to.equal(true);
    expect(el.shadowRoot!.querySelector('video')).to.equal(null);
    expect(el.shadowRoot!.querySelector('button[aria-label="Turn camera on"]')).to.exist;
    const joined = oneEvent(el, 'lan-joined');
    joinButton(el).click();
    const { session } = (await joined).detail;
    sessions.push(session);
    expect([...session.local.tracks.values()].map((t) => t.kind)).to.deep.equal(['microphone']);
  });

  it('joins the relay on submit, publishes camera and microphone and emits lan-joined', async () => {
    const meeting = uniqueMeeting('P');
    const el = await fixture<LanPrejoin>(html`<lan-prejoin relay=${await relay()} meeting=${meeting}></lan-prejoin>`);
    const name = field(el, 'name');
    name.value = 'Ben';
    name.dispatchEvent(new Event('input'));
    const joined = oneEvent(el, 'lan-joined');
    joinButton(el).click();
    const event = await joined;
    const session = event.detail.session;
    sessions.push(session);
    expect(event.bubbles && event.composed).to.equal(true);
    expect(session.meeting).to.equal(meeting);
    expect(session.local.name).to.equal('Ben');
    expect(el.session).to.equal(session);
    expect([...session.local.tracks.values()].map((t) => t.kind).sort()).to.deep.equal(['camera', 'microphone']);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent).to.contain(`Joined “${meeting}” as Ben`);
  });

  it('shows an unreachable relay inline with role=alert and emits lan-error', async () => {
    const el = await fixture<LanPrejoin>(html`<lan-prejoin relay="http://127.0.0.1:9" meeting="M" name="Ana" camera-off microphone-off></lan-prejoin>`);
    const failed = oneEvent(el, 'lan-error');
    joinButton(el).click();
    const { error } = (await failed).detail;
    expect((error as LanError).code).to.equal('LAN_ERR_UNREACHABLE');
    await el.updateComplete;
    const alert = el.shadowRoot!.querySelector('[role="alert"]')!;
    expect(alert.textContent).to.contain('Cannot reach the relay at http://127.0.0.1:9');
    expect(joinButton(el).disabled, 'the button is usable again').to.equal(false);
    expect(el.session).to.equal(undefined);
    await expect(el).to.be.accessible();
  });

  it('shows a wrong passcode from a real relay inline, and joins with the right one', async () => {
    const url = await guardedRelay();
    const meeting = uniqueMeeting('Guarded');
    const el = await fixture<LanPrejoin>(html`<lan-prejoin relay=${url} meeting=${meeting} name="Ana" passcode="nope" camera-off microphone-off></lan-prejoin>`);
    const failed = oneEvent(el, 'lan-error');
    joinButton(el).click();
    const { error } = (await failed).detail;
    expect((error as LanError).code).to.equal('LAN_ERR_BAD_PASSCODE');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.contain('Wrong passcode');
    expect(el.session).to.equal(undefined);
    await expect(el).to.be.accessible();
    field(el, 'passcode').value = TEST_PASSCODE;
    field(el, 'passcode').dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    const joined = oneEvent(el, 'lan-joined');
    joinButton(el).click();
    const { session } = (await joined).detail;
    sessions.push(session);
    expect(session.meeting).to.equal(meeting);
  });

  it('refuses to join without a name and says so', async () => {
    const el = await fixture<LanPrejoin>(html`<lan-prejoin relay=${await relay()} meeting="M" camera-off microphone-off></lan-prejoin>`);
    const failed = oneEvent(el, 'lan-error');
    await el.join().catch(() => undefined);
    expect((await failed).detail.error).to.be.instanceOf(TypeError);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.contain('Enter your name');
    await waitUntil(() => el.shadowRoot!.activeElement === field(el, 'name'), 'the name field has the focus');
  });

  it('describes join errors for people, by code', () => {
    const trust = 'http://relay.lan:8787/trust?meeting=M';
    const cases: Array<[unknown, string | undefined, RegExp]> = [
      [new RelayError('LAN_ERR_BAD_PASSCODE', 'bad passcode'), 'http://r/', /^Wrong passcode/],
      [ConnectionError.unreachable('ws://x'), 'http://r/', /^Cannot reach the relay at http:\/\/r\/\. Check the address and that the relay is running\.$/],
      // The old "open it once and accept the certificate" hint is gone: LAN_ERR_UNTRUSTED says it now.
      [ConnectionError.unreachable('wss://r'), 'https://relay.lan:8787', /^Cannot reach the relay at https:\/\/relay\.lan:8787\. Check the address and that the relay is running\.$/],
      [ConnectionError.unreachable('ws://x'), undefined, /^Cannot reach the relay\. Check/],
      [new UntrustedRelayError('https://relay.lan:8787/', trust, true), 'https://relay.lan:8787',
        /^This computer does not trust the meeting server at https:\/\/relay\.lan:8787 yet\. Open http:\/\/relay\.lan:8787\/trust\?meeting=M to trust it once, then try again\.$/],
      [new UntrustedRelayError('https://relay.lan:8787/', trust, false), 'https://relay.lan:8787',
        /^Cannot reach the relay at https:\/\/relay\.lan:8787\. Most likely this computer does not trust its certificate yet\. Open http:\/\/relay\.lan:8787\/trust\?meeting=M to trust it once, then try again\.$/],
      [new UntrustedRelayError('https://relay.lan:8787/', trust, true), undefined, /^This computer does not trust the meeting server yet\. Open http/],
      [ConnectionError.timeout('joining', 10), 'http://r/', /did not answer in time/],
      [new RelayError('LAN_ERR_ROOM_FULL', 'full'), 'http://r/', /^This meeting is full/],
      [new TypeError('meeting must be a non-empty string'), 'http://r/', /^Could not join: meeting must be/],
      [new Error('boom'), 'http://r/', /^Could not join: boom/],
    ];
    for (const [error, relayUrl, expected] of cases) expect(describeJoinError(error, relayUrl)).to.match(expected);
    expect(describeJoinError(ConnectionError.unreachable('ws://r'), 'http://relay.lan:8787')).to.not.match(/certificate/);
  });
});
