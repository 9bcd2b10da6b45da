/**
 * RESULTS.md holds one section per bench (`npm run bench`, `npm run bench:chat`), each run at
 * its own time: a writer replaces its own section and keeps the others as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/**
 * `body` starts with its heading (`# …` or `## …`); a section runs from that heading to the next
 * heading of level 1 or 2 (the fan-out's `# …` title and the chat's `## …` are peers; both use
 * `###` inside). Missing, it is added at the end.
 */
export function writeResultsSection(body: string, file = FILE): void {
  const heading = body.split('\n', 1)[0]!;
  if (!/^##? /.test(heading)) throw new Error(`a results section starts with a heading, not "${heading}"`);
  const lines = existsSync(file) ? readFileSync(file, 'utf8').replace(/\n+$/, '').split('\n') : [];
  const start = lines.indexOf(heading);
  const own = body.replace(/\n+$/, '').split('\n');
  if (start < 0) {
    writeFileSync(file, [...lines, ...(lines.length ? [''] : []), ...own, ''].join('\n'));
    return;
  }
  const rel = lines.slice(start + 1).findIndex((l) => /^##? /.test(l));
  const end = rel < 0 ? lines.length : start + 1 + rel;
  const after = lines.slice(end);
  writeFileSync(file, [...lines.slice(0, start), ...own, ...(after.length ? ['', ...after] : []), ''].join('\n'));
}
