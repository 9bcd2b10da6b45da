import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { afterThis } from '../helpers/cleanup';

/** One GET: its status, or how the connection ended when no answer came. */
function get(url: string): Promise<{ status?: number; body?: string; cut?: string }> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err) => resolve({ status: res.statusCode, cut: err.message }));
    });
    req.on('error', (err) => resolve({ cut: err.message }));
    req.end();
  });
}

describe('the built web app, served from its folder', () => {
  it('a page file that disappears after start (a redeploy) fails that one answer and the server keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubcast-static-'));
    afterThis(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Hubcast</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    const app = await createTestApp();
    const server = await startTestServer(app, { staticDir: dir });

    const page = await get(`${server.url}/market`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Hubcast</title>');

    // The folder was read at start; the files go away under the running server.
    unlinkSync(join(dir, 'index.html'));
    unlinkSync(join(dir, 'assets', 'app.js'));
    for (const path of ['/market', '/assets/app.js']) {
      const gone = await get(`${server.url}${path}`);
      // Its headers had gone out before the file could be read: the answer is cut, not completed.
      expect(gone.status === undefined || gone.cut !== undefined || gone.body === '').toBe(true);
    }

    // Still serving: the API and health answer (an uncaught stream error would have ended the process).
    const health = await get(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
