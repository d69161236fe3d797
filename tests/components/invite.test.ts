/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import '../../components/meeting/meeting.js';
import '../../components/invite/invite.js';
import type { LanMeeting } from '../../components/meeting/meeting.component.js';
import type { LanInvite } from '../../components/invite/invite.component.js';
import { inviteLinkOf, qrCodeSrcOf } from '../../components/invite/link.js';
import { relay, uniqueMeeting, untrustedRelay, waitUntil } from './helpers.js';

function inInvite<T extends Element = HTMLElement>(el: LanInvite, selector: string): T {
  return el.shadowRoot!.querySelector<T>(selector)!;
}

/** The focused element, through every shadow root. */
function deepActive(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

async function joinedMeeting(extra: { inviteUrl?: string; theme?: string } = {}): Promise<LanMeeting> {
  const meeting = uniqueMeeting('Inv');
  const el = await fixture<LanMeeting>(html`<lan-meeting relay=${await relay()} meeting=${meeting} name="Ana" autojoin
    invite-url=${extra.inviteUrl ?? ''} theme=${extra.theme ?? 'light'} style="height: 600px; width: 960px; display: block"></lan-meeting>`);
  if (el.stage !== 'joined') await oneEvent(el, 'lan-joined');
  await el.updateComplete;
  return el;
}

function inviteOf(el: LanMeeting): LanInvite {
  return el.shadowRoot!.querySelector('lan-invite')!;
}

/** Replaces `navigator.clipboard.writeText` for one test; returns what it was given and how to undo it. */
function stubClipboard(behaviour: 'accept' | 'refuse'): { written: string[]; restore: () => void } {
  const written: string[] = [];
  Object.defineProperty(navigator.clipboard, 'writeText', {
    configurable: true,
    value: (text: string) => {
      if (behaviour === 'refuse') return Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
      written.push(text);
      return Promise.resolve();
    },
  });
  return { written, restore: () => delete (navigator.clipboard as { writeText?: unknown }).writeText };
}

describe('invite links', () => {
  it('inviteLinkOf sets ?meeting= on the page URL and drops the inviter\'s name', () => {
    const cases: Array<[string, string, string]> = [
      ['Standup', 'http://localhost:8000/', 'http://localhost:8000/?meeting=Standup'],
      ['Design review', 'https://intranet.example/meet?meeting=Old&name=Ana#top', 'https://intranet.example/meet?meeting=Design+review#top'],
      ['Room1', 'https://relay.local:8787/?theme=dark&passcode=pw', 'https://relay.local:8787/?theme=dark&passcode=pw&meeting=Room1'],
      ['', 'https://intranet.example/meet?x=1', 'https://intranet.example/meet?x=1'],
    ];
    for (const [meeting, page, expected] of cases) expect(inviteLinkOf(meeting, page), `${meeting} on ${page}`).to.equal(expected);
  });

  it('qrCodeSrcOf asks the relay over plain HTTP unless the page and the relay are both HTTPS', () => {
    const link = 'https://intranet.example/meet?meeting=A+B&x=1';
    const text = encodeURIComponent(link);
    const cases: Array<[string, string, string]> = [
      ['https://192.168.1.20:8787', 'http:', `http://192.168.1.20:8787/trust/qr.svg?text=${text}`],
      ['https://192.168.1.20:8787', 'https:', `https://192.168.1.20:8787/trust/qr.svg?text=${text}`],
      ['wss://relay.local:8787/', 'https:', `https://relay.local:8787/trust/qr.svg?text=${text}`],
      ['http://127.0.0.1:8787', 'https:', `http://127.0.0.1:8787/trust/qr.svg?text=${text}`],
      ['relay.local:8787', 'http:', `http://relay.local:8787/trust/qr.svg?text=${text}`],
    ];
    for (const [relayUrl, protocol, expected] of cases) expect(qrCodeSrcOf(link, relayUrl, protocol), `${relayUrl} from ${protocol}`).to.equal(expected);
    expect(() => qrCodeSrcOf(link, 'ftp://x', 'http:')).to.throw(TypeError);
  });
});

describe('<lan-invite>', () => {
  it('in a meeting: opens from the Invite button by keyboard, shows the page\'s link, Escape closes and the focus returns', async () => {
    const el = await joinedMeeting();
    try {
      const invite = inviteOf(el);
      expect(Boolean(invite), 'an Invite button in the top bar').to.equal(true);
      expect(el.shadowRoot!.querySelector('header')!.contains(invite)).to.equal(true);
      await invite.updateComplete;
      const button = inInvite<HTMLButtonElement>(invite, 'button[part="button"]');
      expect(button.textContent!.trim()).to.equal('Invite');
      expect(button.getAttribute('aria-haspopup')).to.equal('dialog');
      const opened: Array<CustomEvent<{ url: string }>> = [];
      el.addEventListener('lan-invite', (e) => opened.push(e));
      button.focus();
      await sendKeys({ press: 'Enter' });
      const dialog = inInvite<HTMLDialogElement>(invite, 'dialog');
      await waitUntil(() => dialog.open, 'the dialog opened');
      expect(dialog.matches(':modal')).to.equal(true);
      const expected = inviteLinkOf(el.session!.meeting, location.href);
      expect(new URL(expected).searchParams.get('meeting')).to.equal(el.session!.meeting);
      expect(opened.length).to.equal(1);
      expect(opened[0]!.detail.url).to.equal(expected);
      expect(opened[0]!.bubbles && opened[0]!.composed).to.equal(true);
      const field = inInvite<HTMLTextAreaElement>(invite, 'textarea[part="link"]');
      expect(field.value).to.equal(expected);
      expect(field.readOnly).to.equal(true);
      expect(invite.shadowRoot!.querySelector(`label[for="${field.id}"]`)!.textContent).to.equal('Meeting link');
      expect(dialog.getAttribute('aria-labelledby')).to.equal('title');
      expect(inInvite(invite, '#title').textContent).to.equal('Invite people');
      await waitUntil(() => deepActive() === field, 'the link has the focus');
      expect([field.selectionStart, field.selectionEnd], 'and is selected').to.deep.equal([0, expected.length]);
      // This relay has no authority of its own (TLS off), so it draws no QR code: the dialog says so.
      await waitUntil(() => invite.shadowRoot!.querySelector('.no-qr'), 'no QR code from a relay without its own authority');
      await sendKeys({ press: 'Escape' });
      await waitUntil(() => !dialog.open, 'Escape closed the dialog');
      await waitUntil(() => deepActive() === button, 'the focus is back on the Invite button');
      expect(invite.open).to.equal(false);
    } finally {
      await el.leave();
    }
  });

  it('shares invite-url when the page sets it', async () => {
    const el = await joinedMeeting({ inviteUrl: 'https://intranet.example/rooms/standup' });
    try {
      const invite = inviteOf(el);
      await invite.show();
      expect(inInvite<HTMLTextAreaElement>(invite, '[part="link"]').value).to.equal('https://intranet.example/rooms/standup');
      invite.close();
    } finally {
      await el.leave();
    }
  });

  it('the relay draws the QR code: it loads over plain HTTP from the relay this browser does not trust yet', async () => {
    const untrusted = await untrustedRelay();
    const el = await fixture<LanInvite>(html`<lan-invite relay=${untrusted} meeting="QR test"></lan-invite>`);
    await el.show();
    const img = inInvite<HTMLImageElement>(el, 'img[part="qr-image"]');
    expect(img.alt).to.equal('QR code of the meeting link');
    const src = img.getAttribute('src')!;
    expect(src.startsWith(`${untrusted.replace(/^https:/, 'http:')}/trust/qr.svg?text=`)).to.equal(true);
    expect(decodeURIComponent(src.split('text=')[1]!)).to.equal(inviteLinkOf('QR test', location.href));
    await waitUntil(() => img.complete && img.naturalWidth > 0, 'the QR code loaded', 8000);
    expect(img.getBoundingClientRect().width).to.be.greaterThan(100);
    // A link of the page's own choosing is the one drawn.
    el.url = 'https://intranet.example/rooms/standup';
    await el.updateComplete;
    const drawn = inInvite<HTMLImageElement>(el, 'img[part="qr-image"]');
    expect(drawn.getAttribute('src')).to.equal(qrCodeSrcOf('https://intranet.example/rooms/standup', untrusted, 'http:'));
    await waitUntil(() => drawn.complete && drawn.naturalWidth > 0, 'that QR code loaded', 8000);
    el.close();
  });

  it('says so when the relay draws no QR code (a relay without its own authority)', async () => {
    const el = await fixture<LanInvite>(html`<lan-invite relay=${await relay()} meeting="No QR"></lan-invite>`);
    await el.show();
    await waitUntil(() => inInvite(el, '.no-qr'), 'the dialog says there is no QR code', 8000);
    expect(el.shadowRoot!.querySelector('img') === null).to.equal(true);
    expect(inInvite<HTMLTextAreaElement>(el, '[part="link"]').value).to.equal(inviteLinkOf('No QR', location.href));
    el.close();
  });

  it('Copy writes the link to the clipboard (allowed, as a person would) and says "Copied"', async () => {
    expect(await executeServerCommand('lanconf-grant-clipboard')).to.equal(true);
    const el = await fixture<LanInvite>(html`<lan-invite url="https://intranet.example/real?meeting=Clip" relay=${await untrustedRelay()}></lan-invite>`);
    await el.show();
    try {
      await navigator.clipboard.writeText('something else');
      inInvite<HTMLButtonElement>(el, 'button[part="copy-button"]').focus();
      await sendKeys({ press: 'Enter' });
      const status = inInvite(el, '[part="copy-status"]');
      expect(status.getAttribute('role')).to.equal('status');
      await waitUntil(() => status.textContent === 'Copied', 'it says Copied');
      expect(await navigator.clipboard.readText()).to.equal('https://intranet.example/real?meeting=Clip');
    } finally {
      el.close();
    }
  });

  it('Copy through the clipboard API says "Copied" (aria-live)', async () => {
    const el = await fixture<LanInvite>(html`<lan-invite url="https://intranet.example/x?meeting=M" relay=${await untrustedRelay()}></lan-invite>`);
    await el.show();
    const stub = stubClipboard('accept');
    try {
      inInvite<HTMLButtonElement>(el, 'button[part="copy-button"]').click();
      const status = inInvite(el, '[part="copy-status"]');
      expect(status.getAttribute('role')).to.equal('status');
      await waitUntil(() => status.textContent === 'Copied', 'it says Copied');
      expect(stub.written).to.deep.equal(['https://intranet.example/x?meeting=M']);
    } finally {
      stub.restore();
      el.close();
    }
  });

  it('Copy, refused by the browser: the link is selected, copied the old way or with Ctrl+C', async () => {
    const el = await fixture<LanInvite>(html`<lan-invite url="https://intranet.example/x?meeting=M" relay=${await untrustedRelay()}></lan-invite>`);
    await el.show();
    const field = inInvite<HTMLTextAreaElement>(el, '[part="link"]');
    // Away from the link first: the fallback must select it again itself.
    inInvite<HTMLButtonElement>(el, 'button[part="copy-button"]').focus();
    field.setSelectionRange(0, 0);
    const stub = stubClipboard('refuse');
    try {
      inInvite<HTMLButtonElement>(el, 'button[part="copy-button"]').click();
      const status = inInvite(el, '[part="copy-status"]');
      await waitUntil(() => status.textContent !== '', 'it says what happened');
      expect(status.textContent).to.match(/^(Copied|The link is selected: press (Ctrl\+C|⌘C) to copy it\.)$/);
      expect(deepActive() === field, 'the link has the focus').to.equal(true);
      expect([field.selectionStart, field.selectionEnd]).to.deep.equal([0, field.value.length]);
    } finally {
      stub.restore();
      el.close();
    }
  });

  it('the close button and a cancelled lan-invite', async () => {
    const el = await fixture<LanInvite>(html`<lan-invite url="https://intranet.example/x" relay=${await untrustedRelay()}></lan-invite>`);
    const dialog = inInvite<HTMLDialogElement>(el, 'dialog');
    await el.show();
    expect(dialog.open).to.equal(true);
    inInvite<HTMLButtonElement>(el, 'button[part="close-button"]').click();
    await waitUntil(() => !dialog.open, 'the close button closed it');
    await waitUntil(() => deepActive() === inInvite(el, 'button[part="button"]'), 'the focus is back on the Invite button');
    el.addEventListener('lan-invite', (e) => e.preventDefault(), { once: true });
    await el.show();
    expect(dialog.open, 'a page that shows its own invite cancels lan-invite').to.equal(false);
  });

  for (const theme of ['light', 'dark']) {
    it(`the open dialog passes axe (${theme})`, async () => {
      const el = await joinedMeeting({ theme });
      try {
        const invite = inviteOf(el);
        await invite.show();
        await waitUntil(() => inInvite(invite, '.no-qr, img[part="qr-image"]'), 'the dialog rendered');
        if (theme === 'dark') expect(getComputedStyle(inInvite(invite, 'dialog')).backgroundColor).to.equal('rgb(17, 21, 28)');
        await expect(invite).to.be.accessible();
        await expect(el).to.be.accessible();
        invite.close();
      } finally {
        await el.leave();
      }
    });
  }
});
