/** One more holder of `key`; true when it is the first. */
export function countUp<K>(counts: Map<K, number>, key: K): boolean {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return n === 1;
}

/** One holder fewer; true when that was the last one (the key is then gone from `counts`). */
export function countDown<K>(counts: Map<K, number>, key: K): boolean {
  const n = (counts.get(key) ?? 1) - 1;
  if (n > 0) {
    counts.set(key, n);
    return false;
  }
  counts.delete(key);
  return true;
}

/** A release that acts on its first call only: a holder letting go twice must not end another's hold. */
export function releaseOnce(release: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}
