import type { Caller } from './app';
import { skipResumePoint } from './resume-point';
import { waitFor } from './wait';

/** A collection with `cards` cards ("front 1" / "back 1" …), made through the real procedures. */
export async function collectionWithCards(caller: Caller, cards = 3, title = 'French verbs') {
  const collection = await caller.collections.create({ title, description: 'irregular ones' });
  for (let i = 1; i <= cards; i++)
    await caller.collections.addCard({
      collectionId: collection.id,
      front: `front ${i}`,
      back: `back ${i}`,
      tags: [`t${i}`],
    });
  return collection;
}

export type Received<T> = { id: string; data: T };

/** Collects a subscription's events as a client sees them (tracked: { id, data }), without the resume point. */
export function collect<T>() {
  const events: Received<T>[] = [];
  const errors: unknown[] = [];
  return {
    events,
    errors,
    onData: skipResumePoint((e: Received<T>) => void events.push(e)),
    onError: (e: unknown) => void errors.push(e),
  };
}

/** Starts a subscription and waits until the server has it open, so no live event is sent before it. */
export async function subscribed<T>(count: () => number, start: () => T): Promise<T> {
  const before = count();
  const sub = start();
  await waitFor(() => count() === before + 1, { what: 'the subscription to start on the server' });
  return sub;
}
