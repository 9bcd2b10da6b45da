import { toast } from 'sonner';
import type { Conversation, Message } from '../../../../shared/chat';
import { otherNames } from './names';

/** Who wrote, and where: "Carol wrote to you", or "Carol wrote in your chat with Ann, Carol" (a group). */
export function messageHeading(message: Message, conversation: Conversation | undefined, meId: string): string {
  if (!conversation) return 'Someone wrote to you';
  const sender = conversation.participants.find((p) => p.id === message.senderId)?.name ?? 'Someone';
  const where = otherNames(conversation, meId);
  // Between two people the conversation is named after the sender: saying it twice reads oddly.
  return where === sender ? `${sender} wrote to you` : `${sender} wrote in your chat with ${where}`;
}

/**
 * A message from a conversation not on screen: who wrote, where, and the start of the text.
 * The whole toast is one button that opens the conversation.
 */
export function toastMessage(opts: { message: Message; heading: string; openConversation: (id: number) => void }) {
  const { message, heading, openConversation } = opts;
  const id = `chat-${message.id}`;
  toast(
    <button
      type="button"
      className="toast-open"
      data-testid="message-toast"
      title="Open the conversation"
      onClick={() => {
        toast.dismiss(id);
        openConversation(message.conversationId);
      }}
    >
      <strong>{heading}</strong>
      <span className="toast-text">{message.content.slice(0, 140)}</span>
    </button>,
    { id },
  );
}
