/**
 * The invite link of a meeting and the address of its QR code, for `<lan-invite>`. Pure: the page's URL
 * and protocol come in as arguments.
 * @module
 * @internal
 */
import { relayUrls } from '../../sdk/url.js';

/**
 * The link that invites someone to `meeting`: `page` (the embedding page's URL) with its `meeting` query
 * parameter set to the meeting's id, and without `name` (that is the inviter's own name; with it, the
 * relay's page would join the guest as the inviter). Everything else in `page` is kept.
 *
 * @example
 * ```ts
 * inviteLinkOf('Design review', 'https://intranet/meet?meeting=Old&name=Ana#top');
 * // 'https://intranet/meet?meeting=Design+review#top'
 * ```
 */
export function inviteLinkOf(meeting: string, page: string): string {
  const url = new URL(page);
  if (meeting) url.searchParams.set('meeting', meeting);
  url.searchParams.delete('name');
  return url.href;
}

/**
 * Where the relay at `relay` draws a QR code of `link` (`/trust/qr.svg?text=…`, an SVG; the components
 * carry no QR encoder). The relay serves it on one port over HTTPS and plain HTTP alike, so it is asked
 * over plain HTTP unless both the page and the relay are HTTPS: a plain page may load a plain image, and
 * a browser that does not trust the relay yet still sees the code. An HTTPS page asks the relay over HTTPS
 * (it may not load plain images).
 * @throws TypeError when `relay` is not a relay URL.
 */
export function qrCodeSrcOf(link: string, relay: string, pageProtocol: string): string {
  const urls = relayUrls(relay);
  const base = urls.secure && pageProtocol === 'https:' ? urls.http : urls.http.replace(/^https:/, 'http:');
  return `${base}trust/qr.svg?text=${encodeURIComponent(link)}`;
}
