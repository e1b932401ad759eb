/** Pages and scripts go out compressed to browsers that accept it, from files made at build time. */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

/** A raw GET (fetch would decompress and hide the sizes). */
function get(path: string, encoding?: string): Promise<{ status: number; encoding: string | undefined; bytes: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, encoding: res.headers['content-encoding'], bytes, type: res.headers['content-type'],
      }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('compressed assets', () => {
  it.each(['/assets/join.js', '/assets/join.css'])('serves %s as brotli or gzip, and plain to others', async (path) => {
    const plain = await get(path);
    const br = await get(path, 'br, gzip');
    const gz = await get(path, 'gzip');
    expect([plain.status, br.status, gz.status]).toEqual([200, 200, 200]);
    expect(plain.encoding).toBeUndefined();
    expect(br.encoding).toBe('br');
    expect(gz.encoding).toBe('gzip');
    expect(br.bytes).toBeLessThan(plain.bytes / 3);
    expect(br.type).toBe(plain.type);
  });

  it('keeps the patient script before its check step under 75 KB gzip', async () => {
    expect((await get('/assets/join.js', 'gzip')).bytes).toBeLessThan(75 * 1024);
  });

  it('lets browsers keep the content-named script chunks, and revalidate everything else', async () => {
    const html = await (await fetch(`${server.url}/assets/join.html`)).text();
    const chunk = /href="(\/assets\/chunk-[\w-]+\.js)"/.exec(html)?.[1];
    expect(chunk).toBeDefined();
    for (const encoding of ['br', '']) {
      const res = await fetch(`${server.url}${chunk}`, { headers: { 'accept-encoding': encoding } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect((await fetch(`${server.url}/assets/join.js`)).headers.get('cache-control')).toBe('public, max-age=0');
  });
});
