import type { SessionUser } from '../../../shared/auth';
import { listConversations } from './conversations';
import type { StreamScope } from '../../realtime/streams';
import { requireParticipant, type ChatDeps } from './deps';
import { chatEvents, TypingRelay } from './events';
import { invite, listInvitations, respond } from './invitations';
import { listMessages, markRead } from './messages';
import { listRelations } from './relations';
import { SendQueue, type SendInput } from './send';

type Caller = Pick<SessionUser, 'id' | 'name'>;

/**
 * Chat between signed-in people. Every method takes the caller and checks, here, that the
 * rows it touches are theirs: a conversation they are not in does not exist for them.
 */
export class ChatService {
  private readonly typingRelay: TypingRelay;
  private readonly sends: SendQueue;

  constructor(private readonly deps: ChatDeps) {
    this.typingRelay = new TypingRelay(deps);
    this.sends = new SendQueue(deps);
  }

  invite(caller: Caller, input: { toUserId: string; message?: string }) {
    return invite(this.deps, caller, input);
  }

  respond(caller: Caller, input: { invitationId: number; action: 'accept' | 'reject' }) {
    return respond(this.deps, caller.id, input);
  }

  invitations(
    caller: Caller,
    input: { direction?: 'incoming' | 'outgoing'; cursor?: number | null; limit?: number } = {},
  ) {
    return listInvitations(this.deps.db, caller.id, { ...input, limit: input.limit ?? 50 });
  }

  relations(caller: Caller, input: { userIds: string[] }) {
    return listRelations(this.deps.db, caller.id, input.userIds);
  }

  conversations(caller: Caller, input: { cursor?: string | null; limit?: number } = {}) {
    return listConversations(this.deps.db, caller.id, { ...input, limit: input.limit ?? 30 });
  }

  messages(caller: Caller, input: { conversationId: number; cursor?: number | null; limit: number }) {
    return listMessages(this.deps.db, caller.id, input);
  }

  send(caller: Caller, input: SendInput) {
    return this.sends.send(caller.id, input);
  }

  markRead(caller: Caller, input: { conversationId: number; messageId: number }) {
    return markRead(this.deps, caller.id, input);
  }

  typing(caller: Caller, input: { conversationId: number }) {
    return this.typingRelay.typing(caller, input.conversationId);
  }

  /** Refuses (NOT_FOUND, like every chat procedure) a conversation `userId` is not in: for other features' checks. */
  async requireParticipant(userId: string, conversationId: number): Promise<void> {
    await requireParticipant(this.deps.db, conversationId, userId);
  }

  events(caller: Caller, lastEventId: string | null | undefined, scope: StreamScope) {
    return chatEvents(this.deps, { userId: caller.id, lastEventId }, scope);
  }
}
