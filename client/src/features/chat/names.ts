import type { Conversation } from '../../../../shared/chat';

/** A conversation's name for one of its participants: everyone else in it. */
export const otherNames = (c: Conversation, meId: string) =>
  c.participants
    .filter((p) => p.id !== meId)
    .map((p) => p.name)
    .join(', ') || 'Just you';
