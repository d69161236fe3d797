/// <reference types="mocha" />
// The "not trusted yet" paths, against a real relay with TLS from its own authority that this Chromium does
// not trust (the run's third relay). The page is plain http://localhost, so the SDK can check the relay's
// plain-HTTP trust page and the failure is confirmed.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/meeting/meeting.js';
import '../../components/trust-notice/trust-notice.js';
import type { LanMeeting } from '../../components/meeting/meeting.component.js';
import type { LanPrejoin } from '../../components/prejoin/prejoin.component.js';
import type { LanTrustNotice } from '../../components/trust-notice/trust-notice.component.js';
import { UntrustedRelayError } from '../../sdk/index.js';
import { uniqueMeeting, untrustedRelay, waitUntil } from './helpers.js';

/** The plain-HTTP trust page the relay at `https://host:port` serves for `meeting`. */
function trustUrlFor(relay: string, meeting: string): string {
  return `${relay.replace(/^https:/, 'http:')}/trust?meeting=${encodeURIComponent(meeting)}`;
}

function noticeOf(root: ShadowRoot): LanTrustNotice | null {
  return root.querySelector('lan-trust-notice');
}

function inNotice<T extends Element = HTMLElement>(notice: LanTrustNotice, selector: string): T {
  return notice.shadowRoot!.querySelector<T>(selector)!;
}

/** The focused element, through every shadow root. */
function deepActive(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** Counts `type` events reaching `target` (the page's view: retargeted to the outer element). */
function counter(target: EventTarget, type: string): { count: number; last: CustomEvent | undefined } {
  const seen = { count: 0, last: undefined as CustomEvent | undefined };
  target.addEventListener(type, (e) => {
    seen.count++;
    seen.last = e as CustomEvent;
  });
  return seen;
}

async function untrustedMeeting(theme = 'light'): Promise<{ el: LanMeeting; meeting: string; relay: string; untrusted: ReturnType<typeof counter> }> {
  const relay = await untrustedRelay();
  const meeting = uniqueMeeting('U');
  const el = document.createElement('lan-meeting');
  Object.assign(el, { relay, meeting, name: 'Ana', autojoin: true, theme });
  el.style.cssText = 'height: 640px; width: 960px; display: block';
  const untrusted = counter(el, 'lan-untrusted');
  const failed = oneEvent(el, 'lan-untrusted');
  await fixture(html`<div></div>`).then((host) => host.append(el));
  await failed;
  await el.updateComplete;
  return { el, meeting, relay, untrusted };
}

describe('<lan-trust-notice>', () => {
  it('says whether the certificate is the cause, links the trust page in a new tab, and asks for a restart', async () => {
    const el = await fixture<LanTrustNotice>(html`<lan-trust-notice trust-url="http://192.168.1.20:8787/trust?meeting=Standup" confirmed></lan-trust-notice>`);
    expect(inNotice(el, '[part="heading"]').textContent!.trim()).to.equal('This computer does not trust the meeting server yet');
    expect(inNotice(el, '[part="base"]').getAttribute('role')).to.equal('alert');
    const link = inNotice<HTMLAnchorElement>(el, 'a[part="link"]');
    expect(link.href).to.equal('http://192.168.1.20:8787/trust?meeting=Standup');
    expect(link.target).to.equal('_blank');
    expect(link.rel).to.equal('noopener');
    expect(link.textContent).to.match(/Open the trust page.*opens in a new tab/s);
    expect(inNotice(el, '[part="note"]').textContent).to.match(/Chrome keeps refusing a certificate until it restarts/);
    el.confirmed = false;
    await el.updateComplete;
    expect(inNotice(el, '[part="heading"]').textContent!.trim()).to.equal('This computer may not trust the meeting server yet');
    expect(inNotice(el, '[part="message"]').textContent).to.match(/could not be reached\. Most likely/);
    await expect(el).to.be.accessible();
  });

  it('Try again emits lan-retry, not while busy, and says when a retry failed too', async () => {
    const el = await fixture<LanTrustNotice>(html`<lan-trust-notice trust-url="http://r:8787/trust" confirmed></lan-trust-notice>`);
    const retries = counter(el, 'lan-retry');
    const button = inNotice<HTMLButtonElement>(el, '[part="retry-button"]');
    button.click();
    expect(retries.count).to.equal(1);
    expect(retries.last!.bubbles && retries.last!.composed).to.equal(true);
    el.busy = true;
    await el.updateComplete;
    expect(button.getAttribute('aria-disabled')).to.equal('true');
    expect(inNotice(el, '[part="status"]').textContent).to.equal('Trying again…');
    button.click();
    expect(retries.count, 'no second retry while one is under way').to.equal(1);
    el.busy = false;
    await el.updateComplete;
    expect(inNotice(el, '[part="status"]').textContent).to.match(/^Still not trusted/);
    expect(button.getAttribute('aria-disabled')).to.equal('false');
  });
});

describe('<lan-meeting> and a relay this browser does not trust yet', () => {
  it('joining shows the notice with the relay\'s plain-HTTP trust page, once, and lan-untrusted once', async () => {
    const { el, meeting, relay, untrusted } = await untrustedMeeting();
    expect(untrusted.count).to.equal(1);
    expect(untrusted.last!.detail).to.deep.equal({ trustUrl: trustUrlFor(relay, meeting), confirmed: true });
    expect(untrusted.last!.target === el, 'retargeted to the meeting').to.equal(true);
    expect(el.stage).to.equal('prejoin');
    const root = el.shadowRoot!;
    expect(root.querySelectorAll('lan-trust-notice').length).to.equal(1);
    expect(root.querySelector('lan-prejoin') === null, 'the notice replaces the pre-join screen').to.equal(true);
    expect(root.querySelector('.error') === null, 'no bare error beside it').to.equal(true);
    const notice = noticeOf(root)!;
    await notice.updateComplete;
    const link = inNotice<HTMLAnchorElement>(notice, 'a[part="link"]');
    expect(link.href).to.equal(trustUrlFor(relay, meeting));
    expect(link.target).to.equal('_blank');
    expect(link.rel).to.equal('noopener');
    expect(inNotice(notice, '[part="heading"]').textContent!.trim()).to.equal('This computer does not trust the meeting server yet');
    // A real probe: the relay answers plain HTTP on its HTTPS port, where the trust page is.
    const page = await fetch(link.href, { cache: 'no-store' });
    expect(page.ok).to.equal(true);
    expect(await page.text()).to.match(/<html/i);
    await waitUntil(() => deepActive() === inNotice(notice, '[part="heading"]'), 'the focus moved to the notice');
    await new Promise((r) => setTimeout(r, 200));
    expect(untrusted.count, 'one failure, one event').to.equal(1);
    await expect(el).to.be.accessible();
  });

  it('Try again joins again: the notice stays, alone, busy meanwhile; lan-untrusted once per failure', async () => {
    const { el, untrusted } = await untrustedMeeting();
    const errors = counter(el, 'lan-error');
    const root = el.shadowRoot!;
    const notice = noticeOf(root)!;
    const button = inNotice<HTMLButtonElement>(notice, '[part="retry-button"]');
    button.focus();
    button.click();
    await el.updateComplete;
    expect(el.stage).to.equal('joining');
    expect(noticeOf(root) === notice, 'the same notice, still there').to.equal(true);
    expect(notice.busy).to.equal(true);
    await waitUntil(() => untrusted.count === 2, 'the retry failed the same way', 15000);
    expect(errors.count).to.equal(1);
    await el.updateComplete;
    await notice.updateComplete;
    expect(el.stage).to.equal('prejoin');
    expect(root.querySelectorAll('lan-trust-notice').length).to.equal(1);
    expect(noticeOf(root) === notice).to.equal(true);
    expect(notice.busy).to.equal(false);
    expect(inNotice(notice, '[part="status"]').textContent).to.match(/^Still not trusted/);
    expect(deepActive() === button, 'the focus stays on Try again').to.equal(true);
    button.click();
    await waitUntil(() => untrusted.count === 3, 'a third failure', 15000);
    await new Promise((r) => setTimeout(r, 200));
    expect(untrusted.count).to.equal(3);
    expect(root.querySelectorAll('lan-trust-notice').length).to.equal(1);
  });

  it('the notice passes axe in the dark theme', async () => {
    const { el } = await untrustedMeeting('dark');
    expect(getComputedStyle(el.shadowRoot!.querySelector('.base')!).backgroundColor).to.equal('rgb(28, 34, 45)');
    await expect(el).to.be.accessible();
  });

  it('from the pre-join screen: the notice in the form, lan-untrusted once, and the same join on Try again', async () => {
    const relay = await untrustedRelay();
    const meeting = uniqueMeeting('U');
    const el = await fixture<LanMeeting>(html`<lan-meeting relay=${relay} meeting=${meeting} name="Ben" style="height: 640px"></lan-meeting>`);
    const prejoin = el.shadowRoot!.querySelector('lan-prejoin')! as LanPrejoin;
    await prejoin.updateComplete;
    prejoin.cameraOff = true;
    prejoin.microphoneOff = true;
    const untrusted = counter(el, 'lan-untrusted');
    const failed = oneEvent(el, 'lan-untrusted');
    prejoin.shadowRoot!.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    const { detail } = await failed;
    expect(detail).to.deep.equal({ trustUrl: trustUrlFor(relay, meeting), confirmed: true });
    await prejoin.updateComplete;
    const notice = noticeOf(prejoin.shadowRoot!)!;
    expect(Boolean(notice), 'the pre-join screen shows the notice').to.equal(true);
    expect(notice.getAttribute('heading-level')).to.equal('3');
    expect(prejoin.shadowRoot!.querySelector('#error')!.textContent, 'no bare error beside it').to.equal('');
    expect(el.shadowRoot!.querySelector('lan-trust-notice') === null, 'the meeting shows none of its own').to.equal(true);
    await waitUntil(() => deepActive() === inNotice(notice, '[part="heading"]'), 'the focus moved to the notice');
    await expect(prejoin).to.be.accessible();
    inNotice<HTMLButtonElement>(notice, '[part="retry-button"]').click();
    await waitUntil(() => untrusted.count === 2, 'the retry failed the same way', 15000);
    await prejoin.updateComplete;
    expect(prejoin.shadowRoot!.querySelectorAll('lan-trust-notice').length).to.equal(1);
  });

  it('joinMeeting\'s error names the trust page (what the notice is built from)', async () => {
    const relay = await untrustedRelay();
    const meeting = uniqueMeeting('U');
    const { joinMeeting } = await import('../../sdk/index.js');
    const error = await joinMeeting({ url: relay, meeting, name: 'Cy' }).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(UntrustedRelayError);
    expect((error as UntrustedRelayError).code).to.equal('LAN_ERR_UNTRUSTED');
    expect((error as UntrustedRelayError).trustUrl).to.equal(trustUrlFor(relay, meeting));
  });
});
