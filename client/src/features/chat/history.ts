import type { InfiniteData } from '@tanstack/react-query';
import type { Message } from '../../../../shared/chat';

export type Page = { items: Message[]; nextCursor: number | null };

/** Adds a message to the newest page of a loaded history, once. */
export function addToHistory(data: InfiniteData<Page> | undefined, message: Message): InfiniteData<Page> | undefined {
  if (!data || data.pages.some((p) => p.items.some((m) => m.id === message.id))) return data;
  const [first, ...rest] = data.pages;
  return { ...data, pages: [{ ...first!, items: [message, ...first!.items] }, ...rest] };
}
