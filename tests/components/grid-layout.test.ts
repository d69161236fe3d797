/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { pageRange, selectGridLayout, type GridLayout, type GridLayoutOptions } from '../../components/video-grid/layout.js';
import { sortParticipants, participantCount } from '../../components/participants/order.js';
import { describeMedia, initials, mediaStateOf } from '../../components/shared/media-state.js';

type Expected = Partial<GridLayout>;
type Row = [what: string, count: number, width: number, height: number, options: GridLayoutOptions, expected: Expected];

// Gap 8 px, 16:9 tiles, tiles at least 160 px wide, at most 25 a page (the defaults).
const grid: Row[] = [
  ['nobody: no tiles, no pages', 0, 800, 600, {}, { mode: 'grid', columns: 0, rows: 0, pageCount: 0, pageSize: 24 }],
  ['one person fills the width', 1, 800, 600, {}, { columns: 1, rows: 1, tileWidth: 800, tileHeight: 450, pageCount: 1 }],
  ['two in a 4:3 box stack (bigger than side by side)', 2, 800, 600, {}, { columns: 1, rows: 2, tileWidth: 526, tileHeight: 295 }],
  ['two in a 16:9 box sit side by side', 2, 1280, 720, {}, { columns: 2, rows: 1, tileWidth: 636, tileHeight: 357 }],
  ['three: 2 × 2 with a gap beats 3 × 1', 3, 1280, 720, {}, { columns: 2, rows: 2, tileWidth: 632, tileHeight: 355 }],
  ['four: 2 × 2', 4, 1280, 720, {}, { columns: 2, rows: 2, tileWidth: 632, tileHeight: 355 }],
  ['five: 3 × 2', 5, 1280, 720, {}, { columns: 3, rows: 2, tileWidth: 421, tileHeight: 236 }],
  ['six: 3 × 2', 6, 1280, 720, {}, { columns: 3, rows: 2, tileWidth: 421, tileHeight: 236 }],
  ['nine on a large screen: 3 × 3', 9, 1920, 1080, {}, { columns: 3, rows: 3, tileWidth: 630, tileHeight: 354 }],
  ['sixteen: 4 × 4', 16, 1920, 1080, {}, { columns: 4, rows: 4, tileWidth: 469, tileHeight: 263, pageCount: 1 }],
  ['twenty-five: 5 × 5 on one page', 25, 1920, 1080, {}, { columns: 5, rows: 5, tileWidth: 372, tileHeight: 209, pageSize: 25, pageCount: 1 }],
  ['twenty-six: a second page', 26, 1920, 1080, {}, { columns: 5, rows: 5, pageSize: 25, pageCount: 2 }],
  ['forty: two pages of 25', 40, 1920, 1080, {}, { columns: 5, rows: 5, pageSize: 25, pageCount: 2 }],
  ['phone, alone', 1, 360, 640, {}, { columns: 1, rows: 1, tileWidth: 360, tileHeight: 202, pageSize: 12 }],
  ['phone, two stacked', 2, 360, 640, {}, { columns: 1, rows: 2, tileWidth: 360, tileHeight: 202 }],
  ['phone, four stacked', 4, 360, 640, {}, { columns: 1, rows: 4, tileWidth: 273, tileHeight: 153 }],
  ['phone, eight: two columns of the narrowest tiles', 8, 360, 640, {}, { columns: 2, rows: 4, tileWidth: 176, tileHeight: 99 }],
  ['phone, thirty: pages of 12', 30, 360, 640, {}, { columns: 2, rows: 6, pageSize: 12, pageCount: 3 }],
  ['maxTiles caps a page', 5, 1280, 720, { maxTiles: 4 }, { columns: 2, rows: 2, pageSize: 4, pageCount: 2 }],
  ['a box smaller than one tile still shows one', 100, 100, 50, {}, { columns: 1, rows: 1, tileWidth: 88, tileHeight: 49, pageSize: 1, pageCount: 100 }],
  ['not measured yet: a square arrangement, no sizes', 4, 0, 0, {}, { columns: 2, rows: 2, tileWidth: 0, tileHeight: 0, pageSize: 25 }],
  ['not measured yet, many: pages of maxTiles', 30, 0, 0, {}, { columns: 5, rows: 5, pageSize: 25, pageCount: 2 }],
  ['a wider minimum tile pages sooner', 9, 1280, 720, { minTileWidth: 400 }, { columns: 3, rows: 3, pageSize: 9, pageCount: 1 }],
  ['no gap', 2, 1280, 720, { gap: 0 }, { columns: 2, rows: 1, tileWidth: 640, tileHeight: 360 }],
  ['4:3 tiles', 1, 800, 600, { aspectRatio: 4 / 3 }, { tileWidth: 800, tileHeight: 600 }],
];

const presenter: Row[] = [
  ['alone with a screen: the stage is everything', 1, 1280, 720, { presenter: true },
    { mode: 'presenter', strip: 'none', stageWidth: 1280, stageHeight: 720, pageSize: 0 }],
  ['landscape: the strip goes to the side', 2, 1280, 720, { presenter: true },
    { strip: 'side', columns: 1, rows: 1, tileWidth: 256, tileHeight: 144, stageWidth: 1016, stageHeight: 720 }],
  ['landscape, six: four strip tiles in view', 6, 1280, 720, { presenter: true }, { strip: 'side', rows: 4, pageSize: 4 }],
  ['large screen, thirty: the strip scrolls, five in view', 30, 1920, 1080, { presenter: true },
    { strip: 'side', columns: 1, rows: 5, tileWidth: 320, tileHeight: 180, pageSize: 5, stageWidth: 1592, pageCount: 1 }],
  ['phone: the strip goes under, two tiles across', 5, 360, 640, { presenter: true },
    { strip: 'bottom', columns: 2, rows: 1, tileWidth: 176, tileHeight: 99, pageSize: 2, stageWidth: 360, stageHeight: 533 }],
  ['phone, two people: one strip tile', 2, 360, 640, { presenter: true }, { strip: 'bottom', columns: 1, pageSize: 1 }],
];

describe('selectGridLayout', () => {
  for (const [what, count, width, height, options, expected] of [...grid, ...presenter]) {
    it(`${what} (${count} in ${width}×${height})`, () => {
      const layout = selectGridLayout(count, width, height, options);
      expect(pick(layout, expected)).to.deep.equal(expected);
    });
  }

  it('grid tiles always fit their box, for 1 to 40 tiles from a phone to a wall screen', () => {
    for (const [width, height] of [[360, 640], [640, 360], [800, 600], [1280, 720], [1920, 1080], [3840, 2160], [1000, 200]] as const) {
      for (let count = 1; count <= 40; count++) {
        const l = selectGridLayout(count, width, height);
        const where = `${count} in ${width}×${height}`;
        expect(l.columns * l.tileWidth + (l.columns - 1) * 8, where).to.be.at.most(width);
        expect(l.rows * l.tileHeight + (l.rows - 1) * 8, where).to.be.at.most(height);
        expect(l.columns * l.rows, where).to.be.at.least(Math.min(count, l.pageSize));
        // No empty row or column.
        expect((l.rows - 1) * l.columns, where).to.be.below(Math.min(count, l.pageSize));
        expect(l.pageSize, where).to.be.at.most(25);
        expect(l.pageCount, where).to.equal(Math.ceil(count / l.pageSize));
      }
    }
  });

  it('presenter strips fit beside or under the stage', () => {
    for (const [width, height] of [[360, 640], [640, 360], [1280, 720], [1920, 1080], [768, 1024]] as const) {
      for (let count = 2; count <= 30; count += 7) {
        const l = selectGridLayout(count, width, height, { presenter: true });
        const where = `${count} in ${width}×${height}`;
        if (l.strip === 'side') expect(l.stageWidth + 8 + l.tileWidth, where).to.equal(width);
        else expect(l.stageHeight + 8 + l.tileHeight, where).to.equal(height);
        expect(l.tileWidth, where).to.be.at.least(160);
        expect(l.pageSize, where).to.be.within(1, count - 1);
      }
    }
  });
});

describe('pageRange', () => {
  const rows: Array<[count: number, size: number, page: number, expected: ReturnType<typeof pageRange>]> = [
    [10, 25, 0, { page: 0, start: 0, end: 10 }],
    [30, 25, 1, { page: 1, start: 25, end: 30 }],
    [30, 25, 5, { page: 1, start: 25, end: 30 }],
    [30, 12, -1, { page: 0, start: 0, end: 12 }],
    [0, 25, 3, { page: 0, start: 0, end: 0 }],
  ];
  for (const [count, size, page, expected] of rows) {
    it(`page ${page} of ${count} tiles by ${size} → ${JSON.stringify(expected)}`, () => {
      expect(pageRange(count, size, page)).to.deep.equal(expected);
    });
  }
});

describe('participant helpers', () => {
  it('initials take the first and last words, whole characters', () => {
    const rows: Array<[string, string]> = [
      ['Ana', 'A'], ['ana maría lópez', 'AL'], ['  Ben  Okafor ', 'BO'], ['Éva', 'É'], ['😀 Smile', '😀S'], ['', '?'],
    ];
    for (const [name, expected] of rows) expect(initials(name), name).to.equal(expected);
  });

  it('media state: muted, off and on, with an ended track ignored', () => {
    const t = (kind: 'camera' | 'microphone' | 'screen', muted = false, ended = false) => ({ kind, muted, ended });
    expect(mediaStateOf([])).to.deep.equal({ camera: 'off', microphone: 'off', screen: false });
    expect(mediaStateOf([t('camera'), t('microphone', true)])).to.deep.equal({ camera: 'on', microphone: 'muted', screen: false });
    expect(mediaStateOf([t('camera', true), t('microphone'), t('screen')])).to.deep.equal({ camera: 'off', microphone: 'on', screen: true });
    expect(mediaStateOf([t('camera', false, true), t('screen', false, true)])).to.deep.equal({ camera: 'off', microphone: 'off', screen: false });
    expect(describeMedia({ camera: 'on', microphone: 'muted', screen: false })).to.equal('camera on, microphone muted');
  });

  it('the list puts you first, then hosts, then names in a human order', () => {
    const people = [
      { id: '4', name: 'zoe', local: false, role: 'guest' as const },
      { id: '3', name: 'Ana 10', local: false, role: 'guest' as const },
      { id: '2', name: 'Ana 2', local: false, role: 'guest' as const },
      { id: '5', name: 'Yann', local: false, role: 'host' as const },
      { id: '1', name: 'Me', local: true, role: 'guest' as const },
      { id: '6', name: 'ÁLVARO', local: false, role: 'guest' as const },
    ];
    expect(sortParticipants(people).map((p) => p.name)).to.deep.equal(['Me', 'Yann', 'ÁLVARO', 'Ana 2', 'Ana 10', 'zoe']);
    expect(participantCount(1)).to.equal('1 participant');
    expect(participantCount(3)).to.equal('3 participants');
  });
});

function pick(layout: GridLayout, expected: Expected): Expected {
  return Object.fromEntries(Object.keys(expected).map((key) => [key, layout[key as keyof GridLayout]])) as Expected;
}
