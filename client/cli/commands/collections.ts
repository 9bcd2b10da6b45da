import {
  ZShareCode,
  formatShareCode,
  type Card,
  type Collection,
  type ShareCodeInfo,
} from '../../../shared/collections';
import type { Command } from '../command';
import { httpApi } from '../session';
import { localTime } from '../render';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function collectionLine(c: Collection) {
  return `#${String(c.id).padEnd(6)} ${c.title}  (${plural(c.cardCount, 'card')}${c.source ? `, from ${c.source.ownerName}` : ''})`;
}

function codeLine(c: ShareCodeInfo) {
  const uses = c.maxUses === null ? plural(c.uses, 'use') : `${c.uses}/${c.maxUses} uses`;
  const expiry = c.expiresAt ? `expires ${localTime(c.expiresAt)}` : 'no expiry';
  return `${formatShareCode(c.code)}  ${c.status.padEnd(9)} ${uses}, ${expiry}`;
}

const flag = (v: string | boolean | undefined) => (typeof v === 'string' ? Number(v) : undefined);

function positiveId(arg: string | undefined): number {
  const id = Number(arg);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new Error('Give the collection id, as shown by `collections list` (e.g. collections share 12).');
  return id;
}

/**
 * `collections list` · `collections show <id>` (every card, page by page) · `collections share <id> [--hours=N] [--max-uses=N]` (prints the new code, then all codes
 * of the collection with their uses) · `collections import <code>`. `--json` prints the API's answer instead.
 */
export const collectionsCommand: Command = {
  name: 'collections',
  usage: 'collections list | show <id> | share <id> [--hours=N] [--max-uses=N] | import <CODE>   [--json]',
  async run({ ctx, args, flags }) {
    const [sub, arg] = args;
    const http = httpApi(ctx);
    if (sub === 'list') {
      const items: Collection[] = [];
      for (let cursor: number | null = null; ;) {
        const page: { items: Collection[]; nextCursor: number | null } = await http.collections.list.query({
          cursor,
          limit: 100,
        });
        items.push(...page.items);
        if ((cursor = page.nextCursor) === null) break;
      }
      if (flags.json) return items;
      if (items.length === 0) console.log('No collections yet.');
      for (const c of items) console.log(collectionLine(c));
      return;
    }
    if (sub === 'show') {
      // collections.get answers a page of cards at a time: every page is read, so every card is shown.
      const id = positiveId(arg);
      const cards: Card[] = [];
      let collection: Collection | null = null;
      for (let cursor: string | null = null; ;) {
        const page: { collection: Collection; cards: Card[]; nextCursor: string | null } =
          await http.collections.get.query({ id, cursor, limit: 100 });
        collection ??= page.collection;
        cards.push(...page.cards);
        if ((cursor = page.nextCursor) === null) break;
      }
      if (flags.json) return { collection, cards };
      console.log(collectionLine(collection!));
      for (const card of cards) console.log(`  ${card.position + 1}. ${card.front} — ${card.back}`);
      return;
    }
    if (sub === 'share') {
      const collectionId = positiveId(arg);
      const made = await http.collections.createShareCode.mutate({
        collectionId,
        expiresInHours: flag(flags.hours),
        maxUses: flag(flags['max-uses']),
      });
      if (flags.json) return made;
      console.log(`Share code: ${formatShareCode(made.code)}`);
      for (const c of await http.collections.shareCodes.query({ collectionId })) console.log(`  ${codeLine(c)}`);
      return;
    }
    if (sub === 'import') {
      const parsed = ZShareCode.safeParse(arg ?? '');
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join(' '));
      const result = await http.collections.importByCode.mutate({ code: parsed.data });
      if (flags.json) return result;
      console.log(result.message);
      console.log(collectionLine(result.collection));
      for (const card of result.cards) console.log(`  ${card.position + 1}. ${card.front} — ${card.back}`);
      return;
    }
    throw new Error(
      'Usage: npm run cli -- collections list | show <id> | share <id> [--hours=N] [--max-uses=N] | import <CODE>   [--json]',
    );
  },
};
