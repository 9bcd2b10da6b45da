import { lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { busPayloads } from '../db/schema';

/** Listeners read a large payload back within milliseconds of its commit; ten minutes is ample. */
export const BUS_PAYLOAD_KEEP_MS = 10 * 60_000;

export async function pruneBusPayloads(db: Db, now = Date.now()): Promise<number> {
  const gone = await db
    .delete(busPayloads)
    .where(lt(busPayloads.createdAt, new Date(now - BUS_PAYLOAD_KEEP_MS)))
    .returning({ id: busPayloads.id });
  return gone.length;
}
