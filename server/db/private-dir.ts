import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

// PGlite (emscripten's NODEFS) creates its files 0666 whatever the umask, so the WAL, with
// password hashes in it, was readable by every local user. What keeps them out is the data
// directory itself: it and every directory under it are 0700, so no other user can reach a
// file in it, whatever the file's own mode. Files are also set to 0600 when the database is
// opened (`tighten` runs before and after PGlite starts); the umask covers directories PGlite makes.
export function makePrivateDir(dir: string): void {
  if (isMainThread) process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir);
}

export function tighten(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
    for (const name of readdirSync(path)) tighten(join(path, name));
  } else if ((st.mode & 0o077) !== 0) chmodSync(path, 0o600);
}
