export const MESSAGES_PAGE = 30;
/** One conversation's history: the open view and the live stream share its one cache entry. */
export const messagesInput = (conversationId: number) => ({ conversationId, limit: MESSAGES_PAGE });
/** The conversation list's input: the shell, the list and the open conversation share its one cache entry. */
export const CONVERSATIONS_INPUT = { limit: 30 };
