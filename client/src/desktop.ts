import { useSyncExternalStore } from 'react';

// The person's choice, per browser: the permission alone would turn them on for every tab at once.
const KEY = 'hubcast.desktopNotifications';
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((l) => l());

export type DesktopState = 'unsupported' | 'blocked' | 'on' | 'off';

const supported = () => typeof window !== 'undefined' && 'Notification' in window;

function current(): DesktopState {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  return Notification.permission === 'granted' && localStorage.getItem(KEY) === 'on' ? 'on' : 'off';
}

export function useDesktopNotifications() {
  const state = useSyncExternalStore((l) => (listeners.add(l), () => void listeners.delete(l)), current);
  return {
    state,
    // Asked only when the person presses the button: browsers refuse (or remember a "no") otherwise.
    turnOn: async () => {
      if (!supported()) return;
      const permission = await Notification.requestPermission();
      if (permission === 'granted') localStorage.setItem(KEY, 'on');
      changed();
    },
    turnOff: () => {
      localStorage.removeItem(KEY);
      changed();
    },
  };
}

/** A system notification, only while this tab is hidden (in view, the toast says it) and only if turned on. */
export function notifyDesktop(opts: { title: string; body: string; tag: string; onClick: () => void }) {
  if (!document.hidden || current() !== 'on') return;
  let n: Notification;
  try {
    n = new Notification(opts.title, { body: opts.body, tag: opts.tag });
  } catch {
    // Chrome on Android refuses the constructor (it wants a service worker): the toast still shows.
    return;
  }
  n.onclick = () => {
    window.focus();
    opts.onClick();
    n.close();
  };
}
