import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/client';

// PGlite's files (WAL with password hashes) must not be readable by other local users.

const root = mkdtempSync(join(tmpdir(), 'hubcast-perms-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every path under dir (dir included) that group or others may read, write or enter (directories only with `dirsOnly`). */
function openToOthers(dir: string, dirsOnly = false): string[] {
  const found: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0 && (!dirsOnly || st.isDirectory())) found.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return found;
}

describe.skipIf(process.env.DATABASE_URL)('PGlite data directory (PGlite only)', () => {
  it(
    'is 0700 with 0600 files once open, and no directory in it lets others in after writes that reach the WAL',
    { timeout: 120_000 },
    async () => {
      // A umask other users can read through, as a login shell has.
      const previous = process.umask(0o022);
      try {
        const dir = join(root, 'fresh');
        const database = await openDatabase({ dataDir: dir });
        try {
          expect(openToOthers(dir)).toEqual([]);
          await database.db.execute(sql`create table perms_probe (v text)`);
          for (let i = 0; i < 20; i++)
            await database.db.execute(
              sql`insert into perms_probe select repeat('x', 1000) from generate_series(1, 500)`,
            );
          await database.db.execute(sql`checkpoint`);
          // PGlite sets new files 0666 itself; no other user can reach them, as no directory lets them in.
          expect(openToOthers(dir, true)).toEqual([]);
          expect(lstatSync(dir).mode & 0o777).toBe(0o700);
        } finally {
          await database.close();
        }
      } finally {
        process.umask(previous);
      }
    },
  );

  it('tightens an existing directory whose files were left readable', { timeout: 120_000 }, async () => {
    const previous = process.umask(0o022);
    try {
      const dir = join(root, 'existing');
      mkdirSync(join(dir, 'pg_wal'), { recursive: true, mode: 0o755 });
      writeFileSync(join(dir, 'pg_wal', 'stray'), 'hash', { mode: 0o644 });
      chmodSync(dir, 0o755);
      const database = await openDatabase({ dataDir: dir });
      await database.close();
      expect(openToOthers(dir)).toEqual([]);
    } finally {
      process.umask(previous);
    }
  });
});
