import type { Page } from 'playwright-core';

/**
 * The browser's own APIs, observed and steered from outside the app: every Notification the page
 * constructs is recorded (the real one is still built), and the tab can be made to look hidden
 * (headless Chromium never hides a tab by itself). Pass to `context.addInitScript`.
 */
export const observeBrowser = () => {
  const w = window as unknown as { __notifications: { title: string; body: string }[]; __hidden: boolean };
  w.__notifications = [];
  w.__hidden = false;
  const Real = window.Notification;
  const Observed = function (title: string, options?: NotificationOptions) {
    w.__notifications.push({ title, body: options?.body ?? '' });
    return new Real(title, options);
  } as unknown as typeof Notification;
  Object.defineProperty(Observed, 'permission', { get: () => Real.permission });
  Observed.requestPermission = Real.requestPermission.bind(Real);
  window.Notification = Observed;
  Object.defineProperty(Document.prototype, 'hidden', { get: () => w.__hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    get: () => (w.__hidden ? 'hidden' : 'visible'),
  });
};

/** The notifications the page has shown so far (observeBrowser must be installed). */
export const shownNotifications = (page: Page) =>
  page.evaluate(() => (window as unknown as { __notifications: { title: string; body: string }[] }).__notifications);

/** Makes the tab look hidden or in view, as switching tabs would. */
export const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((h) => {
    (window as unknown as { __hidden: boolean }).__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
