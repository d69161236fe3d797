/**
 * Pure view helpers of `<lan-chat>`: splitting a message into text and links, and formatting times.
 * @module
 */

/** A piece of a chat message: plain text, or an http(s) link. */
export type ChatSegment =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string };

// A candidate URL: scheme, then anything up to whitespace or characters that never end a URL in chat.
const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that usually ends the sentence rather than the URL ("see http://x.org/a.").
const TRAILING = `.,;:!?'"]}`;

/**
 * Splits `text` into text and link segments. Only `http:` and `https:` URLs become links (never
 * `javascript:`, `data:`…); trailing sentence punctuation stays outside the link, except a closing
 * parenthesis that closes one inside the URL (`https://en.wikipedia.org/wiki/Lit_(software)`).
 * The segments are meant for template bindings: nothing here is HTML.
 *
 * @example
 * ```ts
 * linkify('see https://lan.local/a.') // [{kind:'text',text:'see '},{kind:'link',text:'https://lan.local/a',href:'https://lan.local/a'},{kind:'text',text:'.'}]
 * ```
 */
export function linkify(text: string): ChatSegment[] {
  const segments: ChatSegment[] = [];
  let last = 0;
  const push = (t: string) => {
    if (!t) return;
    const previous = segments[segments.length - 1];
    if (previous?.kind === 'text') previous.text += t;
    else segments.push({ kind: 'text', text: t });
  };
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const start = match.index;
    const candidate = trimTrailing(match[0]);
    const href = safeHref(candidate);
    push(text.slice(last, start));
    if (href) segments.push({ kind: 'link', text: candidate, href });
    else push(candidate);
    last = start + candidate.length;
  }
  push(text.slice(last));
  return segments;
}

function trimTrailing(candidate: string): string {
  let url = candidate;
  while (url.length > 0) {
    const last = url.charAt(url.length - 1);
    if (last === ')') {
      // Keep a ')' that closes a '(' inside the URL.
      if (count(url, '(') >= count(url, ')')) break;
    } else if (!TRAILING.includes(last)) break;
    url = url.slice(0, -1);
  }
  return url;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** The URL to link to, or `undefined` when `candidate` is not a well-formed http(s) URL. */
function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) return url.href;
  } catch {
    // Not a URL: stays text.
  }
  return undefined;
}

/**
 * A message time as people read it: the local hour and minute ("14:05", or "2:05 PM" where the locale
 * says so), with the date in front when it is not today.
 */
export function formatChatTime(timestamp: number, now = Date.now(), locale?: string): string {
  const date = new Date(timestamp);
  const time = date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (new Date(now).toDateString() === date.toDateString()) return time;
  return `${date.toLocaleDateString(locale, { month: 'short', day: 'numeric' })} ${time}`;
}
