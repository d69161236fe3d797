/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { ContextProvider } from '@lit/context';
import { LitElement, html } from 'lit';
import { sessionContext } from '../../components/shared/context.js';
import { SessionController } from '../../components/shared/session-controller.js';
import type { Session } from '../../sdk/index.js';
import { joinTest, uniqueMeeting, waitUntil } from './helpers.js';

class ProbeElement extends LitElement {
  static override properties = { session: { attribute: false } };
  declare session: Session | undefined;
  readonly s = new SessionController(this, ['participantJoined', 'participantLeft']);
  override render() {
    return html`<span>${this.s.session ? this.s.session.participants.size : 'none'}</span>`;
  }
}
customElements.define('probe-session', ProbeElement);

describe('SessionController', () => {
  it('follows a session given by context and re-renders on its events', async () => {
    const meeting = uniqueMeeting();
    const a = await joinTest(meeting, 'Ana');
    const host = document.createElement('div');
    document.body.append(host);
    const provider = new ContextProvider(host, { context: sessionContext, initialValue: undefined });
    const probe = document.createElement('probe-session') as ProbeElement;
    host.append(probe);
    await probe.updateComplete;
    expect(probe.shadowRoot!.textContent).to.equal('none');
    provider.setValue(a);
    await waitUntil(() => probe.shadowRoot!.textContent === '0', 'the probe shows 0 others');
    const b = await joinTest(meeting, 'Ben');
    await waitUntil(() => probe.shadowRoot!.textContent === '1', 'the probe shows Ben');
    await b.leave();
    await waitUntil(() => probe.shadowRoot!.textContent === '0', 'the probe sees Ben leave');
    await a.leave();
    host.remove();
  });

  it('prefers the session property over the context', async () => {
    const meeting = uniqueMeeting();
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const probe = document.createElement('probe-session') as ProbeElement;
    probe.session = a;
    document.body.append(probe);
    await waitUntil(() => probe.shadowRoot!.textContent === '1', 'Ana sees Ben');
    await b.leave();
    await waitUntil(() => probe.shadowRoot!.textContent === '0', 'Ana sees Ben leave');
    await a.leave();
    probe.remove();
  });
});
