/// <reference types="mocha" />
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { ContextProvider } from '@lit/context';
import '../../components/video-grid/video-grid.js';
import type { LanVideoGrid } from '../../components/video-grid/video-grid.js';
import { selectGridLayout } from '../../components/video-grid/layout.js';
import { sessionContext } from '../../components/shared/context.js';
import type { Session } from '../../sdk/index.js';
import { joinTest, uniqueMeeting, waitUntil } from './helpers.js';

/** A moving picture of `width` × `height` from a canvas, as a camera or screen would give. */
function paintedTrack(width = 320, height = 240, fps = 15): { track: MediaStreamTrack; stop(): void } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  let t = 0;
  const draw = (): void => {
    t++;
    ctx.fillStyle = `hsl(${(t * 20) % 360} 70% 45%)`;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#fff';
    ctx.fillRect((t * 7) % width, height / 3, 40, 40);
  };
  draw();
  const timer = setInterval(draw, 1000 / fps);
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

async function gridFor(session: Session | undefined, width = 800, height = 600, attrs: { maxTiles?: number } = {}): Promise<LanVideoGrid> {
  const wrapper = await fixture<HTMLDivElement>(html`<div style="width: ${width}px; height: ${height}px">
    <lan-video-grid .session=${session} .maxTiles=${attrs.maxTiles ?? 25}></lan-video-grid></div>`);
  const grid = wrapper.querySelector('lan-video-grid')!;
  await grid.updateComplete;
  return grid;
}

const tiles = (grid: LanVideoGrid): HTMLElement[] => [...grid.shadowRoot!.querySelectorAll<HTMLElement>('.tile')];
const tileOf = (grid: LanVideoGrid, id: string): HTMLElement | null =>
  grid.shadowRoot!.querySelector<HTMLElement>(`.tile[data-id="${id}"]`);
const ids = (grid: LanVideoGrid): string[] => tiles(grid).map((t) => t.dataset['id']!);
/** A tile's accessible name: its content, a visually hidden description. */
const nameOf = (tile: Element): string => tile.querySelector('.label')!.textContent!;
const nap = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('<lan-video-grid>', () => {
  it('shows your tile first, then a tile per participant as they join and leave', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const grid = await gridFor(a);
    await waitUntil(() => tiles(grid).length === 1, 'your own tile');
    expect(ids(grid)).to.deep.equal([a.local.id]);
    expect(tiles(grid)[0]!.querySelector('[part="name"]')!.textContent).to.equal('Ana (you)');
    expect(nameOf(tiles(grid)[0]!)).to.equal('Ana (you), camera off, microphone off');
    expect(tiles(grid)[0]!.getAttribute('part')).to.equal('tile self');
    const b = await joinTest(meeting, 'Ben');
    const c = await joinTest(meeting, 'Cleo');
    await waitUntil(() => tiles(grid).length === 3, 'three tiles');
    expect(ids(grid)).to.deep.equal([a.local.id, b.local.id, c.local.id]);
    await b.leave();
    await waitUntil(() => tiles(grid).length === 2, 'Ben’s tile goes');
    expect(ids(grid)).to.deep.equal([a.local.id, c.local.id]);
    await c.leave();
    await a.leave();
    await waitUntil(() => tiles(grid).length === 0, 'no tiles once you left');
  });

  it('takes the session from an enclosing provider', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const host = await fixture<HTMLDivElement>(html`<div style="width: 640px; height: 360px"></div>`);
    const provider = new ContextProvider(host, { context: sessionContext, initialValue: undefined });
    const grid = document.createElement('lan-video-grid');
    host.append(grid);
    await grid.updateComplete;
    expect(tiles(grid)).to.have.length(0);
    provider.setValue(a);
    await waitUntil(() => tiles(grid).length === 1, 'the provided session’s tile');
    await a.leave();
  });

  it('draws a remote camera into its tile’s canvas, and detaches it when the camera goes', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const grid = await gridFor(a);
    const picture = paintedTrack(320, 240);
    const camera = await b.publishMediaTrack(picture.track, 'camera');
    const canvasOf = () => tileOf(grid, b.local.id)?.querySelector<HTMLCanvasElement>('canvas[part="media"]') ?? null;
    await waitUntil(() => canvasOf()?.width === 320 && canvasOf()?.height === 240, 'Ben’s frames in his tile', 10_000);
    const tile = tileOf(grid, b.local.id)!;
    expect(nameOf(tile)).to.equal('Ben, camera on, microphone off');
    expect(tile.querySelector('[part~="badge-camera"]')).to.equal(null);
    // Muted: initials instead of the last picture, and the canvas no longer drawn into.
    const first = canvasOf()!;
    await camera.mute();
    await waitUntil(() => canvasOf() === null, 'the canvas leaves when the camera is muted');
    expect(tileOf(grid, b.local.id)!.querySelector('[part~="badge-camera"]')).to.not.equal(null);
    first.width = 1;
    await camera.unmute();
    await waitUntil(() => canvasOf()?.width === 320, 'frames again after unmute', 10_000);
    expect(canvasOf()).to.not.equal(first);
    await nap(300);
    expect(first.width, 'the detached canvas is not drawn into').to.equal(1);
    picture.stop();
    await a.leave();
    await b.leave();
  });

  it('draws a camera that was published before you joined, as a late joiner', async () => {
    const meeting = uniqueMeeting('grid');
    const b = await joinTest(meeting, 'Ben');
    const picture = paintedTrack(320, 240);
    await b.publishMediaTrack(picture.track, 'camera');
    // Ana joins a meeting where Ben's camera is already on, and the grid gets her session only after
    // the join has resolved, as a page that joins and then builds its layout would.
    const a = await joinTest(meeting, 'Ana');
    const grid = await gridFor(a);
    const canvasOf = () => tileOf(grid, b.local.id)?.querySelector<HTMLCanvasElement>('canvas[part="media"]') ?? null;
    await waitUntil(() => canvasOf()?.width === 320 && canvasOf()?.height === 240, 'Ben’s frames in his tile', 10_000);
    expect(nameOf(tileOf(grid, b.local.id)!)).to.equal('Ben, camera on, microphone off');
    picture.stop();
    await a.leave();
    await b.leave();
  });

  it('shows initials for a participant without a camera, and a badge when they mute their microphone', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben Okafor');
    const grid = await gridFor(a);
    await waitUntil(() => tileOf(grid, b.local.id), 'Ben’s tile');
    const tile = () => tileOf(grid, b.local.id)!;
    expect(tile().querySelector('[part="avatar"]')!.textContent!.trim()).to.equal('BO');
    expect(tile().querySelector('[part~="badge-camera"]')).to.not.equal(null);
    expect(tile().querySelector('[part~="badge-mic"]')!.getAttribute('data-state')).to.equal('off');
    const tone = toneTrack();
    const mic = await b.publishMediaTrack(tone.track, 'microphone');
    await waitUntil(() => tile().querySelector('[part~="badge-mic"]') === null, 'no mic badge while the microphone is on');
    expect(nameOf(tile())).to.match(/^Ben Okafor, camera off, microphone on/);
    await mic.mute();
    await waitUntil(() => tile().querySelector('[part~="badge-mic"]')?.getAttribute('data-state') === 'muted', 'the muted badge');
    expect(nameOf(tile())).to.match(/^Ben Okafor, camera off, microphone muted/);
    await mic.unmute();
    await waitUntil(() => tile().querySelector('[part~="badge-mic"]') === null, 'the badge goes on unmute');
    tone.stop();
    await a.leave();
    await b.leave();
  });

  it('mirrors your own camera, and only yours', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const grid = await gridFor(a);
    const cam = await a.publishCamera({ width: 320, height: 240, fps: 15 });
    const picture = paintedTrack(320, 240);
    await b.publishMediaTrack(picture.track, 'camera');
    const selfView = () => tileOf(grid, a.local.id)?.querySelector<HTMLVideoElement>('video[part~="self-view"]') ?? null;
    await waitUntil(() => selfView()?.videoWidth, 'your camera plays in your tile', 10_000);
    const video = selfView()!;
    expect((video.srcObject as MediaStream).getVideoTracks()[0]).to.equal(cam.mediaStreamTrack);
    expect(getComputedStyle(video).transform).to.equal('matrix(-1, 0, 0, 1, 0, 0)');
    expect(nameOf(tileOf(grid, a.local.id)!)).to.equal('Ana (you), camera on, microphone off');
    await waitUntil(() => tileOf(grid, b.local.id)?.querySelector('canvas'), 'Ben’s canvas');
    expect(getComputedStyle(tileOf(grid, b.local.id)!.querySelector('canvas')!).transform).to.equal('none');
    // Another capture of the camera (switchDevice): the tile follows the new browser track at once.
    const before = cam.mediaStreamTrack;
    await cam.switchDevice(before.getSettings().deviceId!);
    expect(cam.mediaStreamTrack).to.not.equal(before);
    await waitUntil(() => (selfView()?.srcObject as MediaStream | null)?.getVideoTracks()[0] === cam.mediaStreamTrack,
      'your tile plays the new capture', 2000);
    // Muting your camera shows your initials, as the others see.
    await cam.mute();
    await waitUntil(() => selfView() === null, 'initials when your camera is muted');
    picture.stop();
    await a.leave();
    await b.leave();
  });

  it('switches to the presenter layout while someone shares a screen', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const grid = await gridFor(a, 1280, 720);
    await waitUntil(() => tiles(grid).length === 2, 'two tiles');
    const base = () => grid.shadowRoot!.querySelector('[part="base"]')!;
    expect(base().classList.contains('presenter')).to.equal(false);
    const picture = paintedTrack(640, 360, 10);
    const screen = await b.publishScreen({ track: picture.track });
    await waitUntil(() => grid.shadowRoot!.querySelector(`[part="stage"] .tile[data-id="${screen.id}"]`), 'the screen on the stage');
    expect(base().classList.contains('presenter')).to.equal(true);
    expect(base().classList.contains('strip-side')).to.equal(true);
    const strip = [...grid.shadowRoot!.querySelectorAll<HTMLElement>('[part="strip"] .tile')].map((t) => t.dataset['id']);
    expect(strip).to.deep.equal([a.local.id, b.local.id]);
    const stageTile = tileOf(grid, screen.id)!;
    expect(nameOf(stageTile)).to.equal('Ben’s screen');
    expect(stageTile.getAttribute('part')).to.equal('tile screen');
    await waitUntil(() => stageTile.querySelector('canvas')?.width === 640, 'the screen’s frames', 10_000);
    // The stage is the large one: wider than the strip tiles, which match the layout's choice.
    const expected = selectGridLayout(3, 1280, 720, { presenter: true });
    const stripTile = tileOf(grid, a.local.id)!;
    expect(stripTile.getBoundingClientRect().width).to.equal(expected.tileWidth);
    expect(stageTile.getBoundingClientRect().width).to.equal(expected.stageWidth);
    await screen.unpublish();
    await waitUntil(() => !base().classList.contains('presenter'), 'back to the grid');
    expect(ids(grid)).to.deep.equal([a.local.id, b.local.id]);
    picture.stop();
    await a.leave();
    await b.leave();
  });

  it('pins a tile by click and by keyboard, emitting lan-pin, and unpins it again', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const c = await joinTest(meeting, 'Cleo');
    const grid = await gridFor(a, 1280, 720);
    await waitUntil(() => tiles(grid).length === 3, 'three tiles');
    const pins: Array<string | undefined> = [];
    grid.addEventListener('lan-pin', (e) => pins.push(e.detail.trackId));
    const onStage = () => grid.shadowRoot!.querySelector<HTMLElement>('[part="stage"] .tile')?.dataset['id'];

    tileOf(grid, b.local.id)!.click();
    await grid.updateComplete;
    expect(pins).to.deep.equal([b.local.id]);
    expect(grid.pinned).to.equal(b.local.id);
    expect(grid.getAttribute('pinned')).to.equal(b.local.id);
    expect(onStage()).to.equal(b.local.id);
    expect(tileOf(grid, b.local.id)!.getAttribute('aria-pressed')).to.equal('true');
    expect(tileOf(grid, b.local.id)!.getAttribute('part')).to.equal('tile pinned');
    tileOf(grid, b.local.id)!.click();
    await grid.updateComplete;
    expect(pins).to.deep.equal([b.local.id, undefined]);
    expect(onStage()).to.equal(undefined);

    // Keyboard: one Tab stop, arrows move, Enter and Space toggle, focus stays on the tile as it moves.
    const stops = () => tiles(grid).filter((t) => t.tabIndex === 0);
    expect(stops().map((t) => t.dataset['id'])).to.deep.equal([a.local.id]);
    tileOf(grid, a.local.id)!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await grid.updateComplete;
    expect((grid.shadowRoot!.activeElement as HTMLElement).dataset['id']).to.equal(b.local.id);
    expect(stops().map((t) => t.dataset['id'])).to.deep.equal([b.local.id]);
    await sendKeys({ press: 'End' });
    expect((grid.shadowRoot!.activeElement as HTMLElement).dataset['id']).to.equal(c.local.id);
    await sendKeys({ press: 'Enter' });
    await grid.updateComplete;
    expect(pins).to.deep.equal([b.local.id, undefined, c.local.id]);
    expect(onStage()).to.equal(c.local.id);
    expect((grid.shadowRoot!.activeElement as HTMLElement).dataset['id'], 'focus follows the tile to the stage').to.equal(c.local.id);
    await sendKeys({ press: 'Space' });
    await grid.updateComplete;
    expect(pins).to.deep.equal([b.local.id, undefined, c.local.id, undefined]);
    expect(onStage()).to.equal(undefined);
    expect((grid.shadowRoot!.activeElement as HTMLElement).dataset['id']).to.equal(c.local.id);

    // A listener may refuse the pin.
    grid.addEventListener('lan-pin', (e) => e.preventDefault(), { once: true });
    tileOf(grid, a.local.id)!.click();
    await grid.updateComplete;
    expect(pins).to.have.length(5);
    expect(grid.pinned).to.equal(undefined);
    for (const s of [a, b, c]) await s.leave();
  });

  it('highlights the active speaker and names them speaking', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const grid = await gridFor(a);
    const tone = toneTrack();
    await b.publishMediaTrack(tone.track, 'microphone');
    await waitUntil(() => tileOf(grid, b.local.id)?.classList.contains('speaking'), 'Ben speaking', 10_000);
    const tile = tileOf(grid, b.local.id)!;
    expect(tile.getAttribute('part')).to.equal('tile speaking');
    expect(nameOf(tile)).to.equal('Ben, camera off, microphone on, speaking');
    expect(tileOf(grid, a.local.id)!.classList.contains('speaking')).to.equal(false);
    tone.stop();
    await a.leave();
    await b.leave();
  });

  it('receives only the videos on the page shown: the others are paused at the relay until their page is shown', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const others = [await joinTest(meeting, 'Ben'), await joinTest(meeting, 'Cleo'), await joinTest(meeting, 'Dev')];
    const pictures = others.map(() => paintedTrack(160, 120));
    const cameras = await Promise.all(others.map((s, i) => s.publishMediaTrack(pictures[i]!.track, 'camera')));
    const grid = await gridFor(a, 360, 640, { maxTiles: 3 });
    await waitUntil(() => cameras.every((c) => a.tracks.has(c.id)), 'Ana knows the three cameras', 10_000);
    const paused = () => cameras.map((c) => a.tracks.get(c.id)!.paused);
    const shown = () => ids(grid);
    // Page 1 holds three of the four tiles (Ana's own is one of them): the camera on page 2 is paused.
    const expectPage = (page: string[]) => others.map((s) => !page.includes(s.local.id));
    await waitUntil(() => JSON.stringify(paused()) === JSON.stringify(expectPage(shown())), 'page 1: only the cameras in view received', 10_000);
    expect(paused().filter(Boolean)).to.have.length(1);
    const offPage = cameras[paused().indexOf(true)]!;
    // The SDK tells the relay 100 ms after a change; frames already on their way still land.
    await nap(500);
    const framesOff = a.tracks.get(offPage.id)!.framesReceived;
    await nap(500);
    expect(a.tracks.get(offPage.id)!.framesReceived - framesOff, 'no frames for the camera off the page').to.be.at.most(1);
    // Page 2: that camera is received and drawn, the ones that left the view are paused.
    const pager = grid.shadowRoot!.querySelector<HTMLElement>('[part="pager"]')!;
    pager.querySelectorAll<HTMLButtonElement>('button')[1]!.click();
    await grid.updateComplete;
    await waitUntil(() => JSON.stringify(paused()) === JSON.stringify(expectPage(shown())), 'page 2: only the cameras in view received', 10_000);
    expect(a.tracks.get(offPage.id)!.paused).to.equal(false);
    const owner = others[cameras.indexOf(offPage)]!;
    const canvas = () => tileOf(grid, owner.local.id)?.querySelector<HTMLCanvasElement>('canvas[part="media"]') ?? null;
    await waitUntil(() => canvas()?.width === 160, 'the camera of page 2 is drawn once shown', 10_000);
    for (const p of pictures) p.stop();
    for (const s of [a, ...others]) await s.leave();
  });

  it('fits a 360 px wide phone, pages what does not fit, and re-lays out when resized', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const others = [await joinTest(meeting, 'Ben'), await joinTest(meeting, 'Cleo'), await joinTest(meeting, 'Dev')];
    const grid = await gridFor(a, 360, 640, { maxTiles: 3 });
    // Four tiles, three a page: the pager takes its height (36 px and a gap) from the tiles.
    const phone = selectGridLayout(4, 360, 640 - 36 - 8, { maxTiles: 3 });
    expect(phone).to.include({ columns: 1, rows: 3, pageCount: 2 });
    await waitUntil(() => tiles(grid).length === 3 && tiles(grid)[0]!.getBoundingClientRect().width === phone.tileWidth, 'three phone tiles');
    const pager = grid.shadowRoot!.querySelector<HTMLElement>('[part="pager"]')!;
    expect(pager.querySelector('[role="status"]')!.textContent!.trim()).to.equal('Page 1 of 2');
    expect(tiles(grid)).to.have.length(3);
    for (const tile of tiles(grid)) {
      const box = tile.getBoundingClientRect();
      expect(box.width).to.be.at.most(360);
      expect(box.right).to.be.at.most(grid.getBoundingClientRect().right + 0.5);
    }
    // One column on a phone.
    expect(new Set(tiles(grid).map((t) => t.getBoundingClientRect().left)).size).to.equal(1);
    const [previous, next] = pager.querySelectorAll<HTMLButtonElement>('button');
    expect(previous!.disabled).to.equal(true);
    next!.click();
    await grid.updateComplete;
    expect(ids(grid)).to.deep.equal([others[2]!.local.id]);
    expect(pager.querySelector('[role="status"]')!.textContent!.trim()).to.equal('Page 2 of 2');

    // Grown to a large screen: one page, tiles sized by the layout.
    grid.maxTiles = 25;
    grid.parentElement!.style.width = '1920px';
    grid.parentElement!.style.height = '1080px';
    const large = selectGridLayout(4, 1920, 1080);
    await waitUntil(() => tiles(grid)[0]?.getBoundingClientRect().width === large.tileWidth, 'tiles re-sized to the large screen');
    expect(tiles(grid)).to.have.length(4);
    expect(grid.shadowRoot!.querySelector('[part="pager"]')).to.equal(null);
    expect(tiles(grid)[0]!.getBoundingClientRect().height).to.equal(large.tileHeight);
    for (const s of [a, ...others]) await s.leave();
  });

  it('is accessible in the grid and presenter layouts', async () => {
    const meeting = uniqueMeeting('grid');
    const a = await joinTest(meeting, 'Ana');
    const b = await joinTest(meeting, 'Ben');
    const grid = await gridFor(a, 1024, 576);
    const picture = paintedTrack(320, 240);
    await b.publishMediaTrack(picture.track, 'camera');
    await waitUntil(() => tileOf(grid, b.local.id)?.querySelector('canvas')?.width === 320, 'Ben’s camera', 10_000);
    await expect(grid).to.be.accessible();
    const group = grid.shadowRoot!.querySelector('[part="base"]')!;
    expect(group.getAttribute('role')).to.equal('group');
    expect(group.getAttribute('aria-label')).to.equal('Video tiles');
    const screen = paintedTrack(640, 360, 10);
    await a.publishScreen({ track: screen.track });
    await waitUntil(() => grid.shadowRoot!.querySelector('[part="stage"] .tile.screen'), 'your screen on the stage');
    expect(nameOf(grid.shadowRoot!.querySelector('[part="stage"] .tile')!)).to.equal('Your screen');
    await expect(grid).to.be.accessible();
    picture.stop();
    screen.stop();
    await a.leave();
    await b.leave();
  });
});
