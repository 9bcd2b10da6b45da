import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config';

describe('where the embedded database keeps its files', () => {
  it('npm start uses ./.data, npm run demo (UPSTREAMS=demo) its own ./.data-demo, and DATA_DIR wins over both', () => {
    expect(loadConfig({}).DATA_DIR).toBe('./.data');
    expect(loadConfig({ UPSTREAMS: 'demo' }).DATA_DIR).toBe('./.data-demo');
    expect(loadConfig({ UPSTREAMS: 'demo', DATA_DIR: '/srv/hubcast' }).DATA_DIR).toBe('/srv/hubcast');
    expect(loadConfig({ UPSTREAMS: 'live', DATA_DIR: '/srv/hubcast' }).DATA_DIR).toBe('/srv/hubcast');
  });
});
