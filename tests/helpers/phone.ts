import type { Page } from 'playwright-core';

/** The phone width every page must fit. */
export const PHONE = { width: 390, height: 844 };

/**
 * Each element matching `selector` that is not wholly shown: outside the screen sideways, or cut
 * by an ancestor that clips (overflow other than visible), such as a table's inner scroll area.
 */
export function notWhollyShown(page: Page, selector: string) {
  return page.evaluate((selector) => {
    const found: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(selector)) {
      const what = `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) {
        found.push(`${what} is not shown`);
        continue;
      }
      if (r.left < 0 || r.right > window.innerWidth + 0.5) found.push(`${what} is off screen (${r.left}–${r.right})`);
      for (let a = el.parentElement; a; a = a.parentElement) {
        const style = getComputedStyle(a);
        const box = a.getBoundingClientRect();
        const cutX = style.overflowX !== 'visible' && (r.left < box.left - 0.5 || r.right > box.right + 0.5);
        const cutY = style.overflowY !== 'visible' && (r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
        if (a !== document.documentElement && a !== document.body && (cutX || cutY))
          found.push(`${what} is cut by ${a.tagName.toLowerCase()}.${a.className}`);
      }
    }
    return found;
  }, selector);
}

/** The bar's visible items (not the menu's panel under it) share one line: each top above every bottom. */
export function headerRows(page: Page) {
  return page.evaluate(() => {
    const items = [...document.querySelectorAll<HTMLElement>('.topbar > :not(.topbar-menu)')]
      .map((el) => el.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0);
    return Math.max(...items.map((r) => r.top)) < Math.min(...items.map((r) => r.bottom)) ? 1 : 'more than one';
  });
}
