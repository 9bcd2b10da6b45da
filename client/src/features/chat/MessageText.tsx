import type { ReactNode } from 'react';

// A web address as people paste it.
const URL_LIKE = /\bhttps?:\/\/[^\s<>"]+/gi;
const SENTENCE_END = /[.,;:!?'’\]]$/;
const count = (s: string, c: string) => s.split(c).length - 1;

/** Punctuation that ends the sentence is not part of the address; a ")" is, when it closes a "(" in it. */
function trimEnd(raw: string): string {
  let link = raw;
  for (;;) {
    if (SENTENCE_END.test(link)) link = link.slice(0, -1);
    else if (link.endsWith(')') && count(link, ')') > count(link, '(')) link = link.slice(0, -1);
    else return link;
  }
}

/** An http(s) address only: anything else (javascript:, data:, a malformed one) stays text. */
function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A message's text with its web addresses as links. Built from React elements, never from
 * HTML: whatever markup a message contains is shown as the characters it is.
 */
export function MessageText({ content }: { content: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of content.matchAll(URL_LIKE)) {
    const start = match.index;
    const raw = match[0];
    const link = trimEnd(raw);
    const href = safeHref(link);
    if (!href) continue;
    if (start > last) parts.push(content.slice(last, start));
    parts.push(
      <a key={start} href={href} target="_blank" rel="noopener noreferrer">
        {link}
      </a>,
    );
    last = start + link.length;
  }
  parts.push(content.slice(last));
  return <p>{parts}</p>;
}
