import { randomUUID } from 'node:crypto';
import type { ChatEvent, ChatStreamMessage, Conversation, Message } from '../../../shared/chat';
import type { Command } from '../command';
import { clock } from '../render';
import { followSubscription, httpApi, loginHint, type CliContext } from '../session';

type Http = ReturnType<typeof httpApi>;

/** Names of everyone the caller talks with, for readable lines. */
async function directory(http: Http, url: string) {
  const me = await http.auth.me.query();
  if (!me) throw new Error(`Sign in first: ${loginHint(url)}`);
  const names = new Map<string, string>([[me.id, 'you']]);
  const conversations: Conversation[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Conversation[]; nextCursor: string | null } = await http.chat.conversations.query({
      cursor,
      limit: 100,
    });
    conversations.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  for (const c of conversations) for (const p of c.participants) if (p.id !== me.id) names.set(p.id, p.name);
  return { me, names, conversations };
}

const messageLine = (m: Message, names: Map<string, string>) =>
  `[${clock(m.createdAt)}] #${m.conversationId} ${names.get(m.senderId) ?? m.senderId}: ${m.content}`;

function eventLine(e: ChatEvent, names: Map<string, string>): string {
  switch (e.type) {
    case 'new_message':
      return messageLine(e.message, names);
    case 'new_invitation':
      return `invitation ${e.invitation.id} from ${e.invitation.from.name}${e.invitation.message ? `: "${e.invitation.message}"` : ''}  (chat accept ${e.invitation.id} | chat reject ${e.invitation.id})`;
    case 'invitation_accepted':
      return `${e.invitation.to.name} accepted: conversation #${e.conversationId}`;
    case 'invitation_rejected':
      return `${e.invitation.to.name} declined your invitation`;
    case 'read':
      return `#${e.conversationId} read by ${names.get(e.userId) ?? e.userId} up to message ${e.messageId}`;
    case 'typing':
      return `#${e.conversationId} ${e.name} is typing…`;
  }
}

async function invite(http: Http, who: string, message: string | undefined) {
  const found = await http.users.search.query({ query: who });
  const exact = found.filter(
    (u) => u.email?.toLowerCase() === who.toLowerCase() || u.name.toLowerCase() === who.toLowerCase(),
  );
  const pick = exact.length === 1 ? exact : found;
  if (pick.length === 0) throw new Error(`Nobody matches "${who}".`);
  if (pick.length > 1)
    throw new Error(
      `"${who}" matches ${pick.length} people: ${pick.map((u) => (u.email ? `${u.name} <${u.email}>` : u.name)).join(', ')}. Be more precise.`,
    );
  const { invitationId } = await http.chat.invite.mutate({ toUserId: pick[0]!.id, message });
  return { invitationId, to: pick[0]!.name };
}

function watch(
  ctx: CliContext,
  signal: AbortSignal,
  names: Map<string, string>,
  out: (e: ChatEvent) => void,
  lastEventId?: string,
) {
  return followSubscription<ChatStreamMessage>(
    ctx,
    signal,
    (api, handlers) => api.chat.events.subscribe(lastEventId ? { lastEventId } : undefined, handlers),
    {
      // Said on stderr, so --json output stays one event per line.
      onStarted: () => console.error('Connected: watching your chat (Ctrl-C to stop).'),
      // Stored events arrive tracked ({ id, data }), typing as { data }.
      onData: ({ data: event }) => {
        if (event.type === 'invitation_accepted') names.set(event.invitation.to.id, event.invitation.to.name);
        out(event);
      },
    },
  );
}

/**
 * `chat invite <name or e-mail> [--message=…]`, `chat invitations`, `chat accept|reject <id>`,
 * `chat conversations`, `chat history <conversationId>`, `chat send <conversationId> <text…>`,
 * `chat watch [--from=<eventId>]`; readable lines, or JSON with --json.
 */
export const chatCommand: Command = {
  name: 'chat',
  usage:
    'chat invite <name|e-mail> [--message=TEXT] | invitations | accept|reject <id> | conversations | history <id> | send <id> <text> | watch [--from=EVENT_ID]  (--json)',
  async run({ ctx, args, flags, signal, print }) {
    const [sub, ...rest] = args;
    const http = httpApi(ctx);
    const json = flags.json === true;
    if (sub === 'invite') {
      if (!rest.length) throw new Error('Say whom to invite: chat invite "Ada Lovelace" (or an e-mail).');
      const r = await invite(http, rest.join(' '), typeof flags.message === 'string' ? flags.message : undefined);
      return json ? r : void console.log(`invited ${r.to} (invitation ${r.invitationId})`);
    }
    if (sub === 'invitations') {
      const { items } = await http.chat.invitations.query({ limit: 100 });
      if (json) return items;
      for (const i of items)
        console.log(`${String(i.id).padStart(5)}  ${i.from.name} → ${i.to.name}${i.message ? `  "${i.message}"` : ''}`);
      return items.length ? undefined : void console.log('no pending invitations');
    }
    if (sub === 'accept' || sub === 'reject') {
      const r = await http.chat.respond.mutate({ invitationId: Number(rest[0]), action: sub });
      return json ? r : void console.log(r.conversationId ? `accepted: conversation #${r.conversationId}` : 'declined');
    }
    if (sub === 'send') {
      const [id, ...words] = rest;
      // One key per command: if the network fails after the server stored it, a rerun with --client-id sends nothing twice.
      const clientId = typeof flags['client-id'] === 'string' ? flags['client-id'] : randomUUID();
      const { message } = await http.chat.send.mutate({
        conversationId: Number(id),
        content: words.join(' '),
        clientId,
      });
      return json ? message : void console.log(`sent message ${message.id} to #${message.conversationId}`);
    }
    const { names, conversations } = await directory(http, ctx.url);
    if (sub === 'conversations') {
      if (json) return conversations;
      for (const c of conversations) {
        const who = c.participants
          .filter((p) => names.get(p.id) !== 'you')
          .map((p) => p.name)
          .join(', ');
        const last = c.lastMessage
          ? `  ${names.get(c.lastMessage.senderId) ?? '?'}: ${c.lastMessage.content.slice(0, 60)}`
          : '';
        console.log(
          `#${String(c.id).padEnd(5)} ${who.padEnd(24)} ${c.unreadCount ? `${c.unreadCount} unread` : '        '}${last}`,
        );
      }
      return conversations.length ? undefined : void console.log('no conversations yet: chat invite <name>');
    }
    if (sub === 'history') {
      const { items } = await http.chat.messages.query({ conversationId: Number(rest[0]), limit: 50 });
      if (json) return items;
      for (const m of items.reverse()) console.log(messageLine(m, names));
      return;
    }
    if (sub === 'watch')
      return watch(
        ctx,
        signal,
        names,
        (e) => (json ? print(e) : console.log(eventLine(e, names))),
        typeof flags.from === 'string' ? flags.from : undefined,
      );
    throw new Error(`Usage: npm run cli -- ${chatCommand.usage}`);
  },
};
