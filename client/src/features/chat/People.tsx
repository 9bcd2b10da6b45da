import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { Link } from 'wouter';
import type { Relation } from '../../../../shared/chat';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';

type Person = { id: string; name: string; email: string | null };

/** Find someone by name or e-mail and invite them, with an optional note. */
export function People() {
  const trpc = useTRPC();
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState('');
  const [note, setNote] = useState('');
  const found = useQuery(trpc.users.search.queryOptions({ query }, { enabled: query.length > 0 }));
  const search = (e: FormEvent) => {
    e.preventDefault();
    setQuery(draft.trim());
  };
  return (
    <section className="card chat-people" data-testid="chat-people">
      <h2>Start a conversation</h2>
      <form onSubmit={search} className="chat-row">
        <input
          aria-label="Search people"
          placeholder="Name or e-mail"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          maxLength={100}
        />
        <button type="submit">Search</button>
      </form>
      <input
        aria-label="Invitation note"
        placeholder="Optional note"
        value={note}
        onChange={(e) => setNote(e.target.value)}
        maxLength={500}
      />
      {query && (
        <QueryState query={found} isEmpty={(d) => d.length === 0} empty={`Nobody matches “${query}”.`}>
          {(people) => <Found people={people} note={note} onInvited={() => setNote('')} />}
        </QueryState>
      )}
    </section>
  );
}

/** Each person found, with what can be done: invite, wait for an answer, or open the conversation. */
function Found({ people, note, onInvited }: { people: Person[]; note: string; onInvited: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const relations = useQuery(trpc.chat.relations.queryOptions({ userIds: people.map((p) => p.id) }));
  const invite = useMutation(
    trpc.chat.invite.mutationOptions({
      onSuccess: () => {
        toast.success('Invitation sent.');
        onInvited();
        void queryClient.invalidateQueries(trpc.chat.invitations.pathFilter());
        void queryClient.invalidateQueries(trpc.chat.relations.pathFilter());
      },
      onError: (err) => toast.error(err.message),
    }),
  );
  const relation = (id: string) => relations.data?.items.find((r) => r.userId === id);
  return (
    <ul className="chat-list">
      {people.map((p) => (
        <li key={p.id} className="chat-row" data-testid="person">
          <span className="chat-grow" title={p.email ?? undefined}>
            {p.name}
          </span>
          <PersonAction
            relation={relation(p.id)}
            // Until we know whether they talk already, inviting could send a second invitation.
            busy={invite.isPending || relations.isPending}
            onInvite={() => invite.mutate({ toUserId: p.id, message: note.trim() || undefined })}
          />
        </li>
      ))}
    </ul>
  );
}

function PersonAction({ relation, busy, onInvite }: { relation?: Relation; busy: boolean; onInvite: () => void }) {
  if (relation?.conversationId) return <Link href={`/chat?c=${relation.conversationId}`}>Open conversation</Link>;
  if (relation?.pendingInvitation?.direction === 'outgoing') return <span className="muted">Invitation pending</span>;
  if (relation?.pendingInvitation) return <span className="muted">Invited you: answer below</span>;
  return (
    <button disabled={busy} onClick={onInvite}>
      Invite
    </button>
  );
}
