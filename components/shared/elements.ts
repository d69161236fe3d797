/**
 * Which elements there are, and how the ones a first screen does not need are loaded on first use.
 *
 * `<lan-meeting>` shows the pre-join screen first (with the trust notice, should the relay's certificate not
 * be trusted yet: that screen must be able to say so at once), then the grid and the controls: those come
 * with it. The chat, the participants and the Invite dialog are only seen once joined, the files panel once
 * opened: `<lan-meeting>` imports them with {@link loadElement} when it is about to show them, so in the drop-in bundle
 * (dist/browser/lanconf-components.js) each is a chunk beside the entry file, fetched from wherever the
 * entry came from. Importing `lanconf/components` still defines every tag at once (a bundler splits as it
 * likes), and the dynamic imports below then cost nothing.
 *
 * Host and lobby controls, when they come, belong here too: add their tags to {@link LAZY_ELEMENTS}, and have
 * `<lan-meeting>` load them when the person becomes host or a lobby opens.
 * @module
 */

/** Every tag name lanconf defines. */
export const ELEMENTS: readonly string[] = [
  'lan-meeting', 'lan-prejoin', 'lan-video-grid', 'lan-controls', 'lan-chat', 'lan-files', 'lan-participants',
  'lan-invite', 'lan-trust-notice',
];

/** A tag that the drop-in bundle defines on first use. */
export type LazyElementTag = 'lan-chat' | 'lan-files' | 'lan-participants' | 'lan-invite';

/** The modules of the elements loaded on first use, by tag. Each defines its tag when it runs. */
const LOADERS: Record<LazyElementTag, () => Promise<unknown>> = {
  'lan-chat': () => import('../chat/chat.js'),
  'lan-files': () => import('../files/files.js'),
  'lan-participants': () => import('../participants/participants.js'),
  'lan-invite': () => import('../invite/invite.js'),
};

/** The tags the drop-in bundle defines on first use (see {@link loadElement}). */
export const LAZY_ELEMENTS = Object.keys(LOADERS) as readonly LazyElementTag[];

const loading = new Map<LazyElementTag, Promise<CustomElementConstructor>>();

/**
 * Defines `tag` (loading its module if need be) and resolves with its class. Elements of that tag already in
 * the page upgrade as it is defined, keeping the properties set on them before. A failed load (the relay went
 * away) rejects, and the next call tries again.
 *
 * @example
 * ```ts
 * const LanFiles = await loadElement('lan-files');
 * ```
 */
export function loadElement(tag: LazyElementTag): Promise<CustomElementConstructor> {
  const defined = customElements.get(tag);
  if (defined) return Promise.resolve(defined);
  let promise = loading.get(tag);
  if (!promise) {
    promise = LOADERS[tag]().then(() => {
      loading.delete(tag);
      return customElements.get(tag)!;
    }, (error: unknown) => {
      loading.delete(tag);
      throw error;
    });
    loading.set(tag, promise);
  }
  return promise;
}

/** Loads `tag` for an element about to show it; a failure is logged, and the next render tries again. */
export function ensureElement(tag: LazyElementTag): void {
  if (customElements.get(tag)) return;
  loadElement(tag).catch((error: unknown) => console.error(`lanconf: <${tag}> could not be loaded`, error));
}

/**
 * For the drop-in bundle: defines each lazily loaded tag as soon as an element of it is in `root` (at once, for
 * those already there, then as they are added), so a page that writes `<lan-files>` or creates one works as if
 * the tag had been defined from the start. Light DOM only: inside a shadow root of its own, a page calls
 * {@link loadElement} (lanconf's elements load what they render themselves). The observer stops once every tag
 * is defined. Each callback looks only at the nodes added, and only while some tag is not requested yet.
 */
export function autoloadElements(root: Document = document): void {
  const pending = new Set<LazyElementTag>(LAZY_ELEMENTS.filter((tag) => !customElements.get(tag)));
  if (pending.size === 0) return;
  const selector = (): string => [...pending].join(',');
  const load = (tag: LazyElementTag): void => {
    pending.delete(tag);
    loadElement(tag).catch((error: unknown) => {
      pending.add(tag); // the next one added tries again
      console.error(`lanconf: <${tag}> could not be loaded`, error);
    });
  };
  const scan = (node: ParentNode & Node): void => {
    if (pending.size === 0) return;
    if (node instanceof Element && pending.has(node.localName as LazyElementTag)) load(node.localName as LazyElementTag);
    if (pending.size === 0) return;
    for (const element of node.querySelectorAll(selector())) load(element.localName as LazyElementTag);
  };
  scan(root);
  if (pending.size === 0) return;
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) if (node instanceof Element) scan(node);
    }
    if (LAZY_ELEMENTS.every((tag) => customElements.get(tag))) observer.disconnect();
  });
  observer.observe(root, { childList: true, subtree: true });
}
