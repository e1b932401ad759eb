/**
 * The nginx sample in front of a real server: plain HTTP is sent to HTTPS, the service sees the
 * request came over TLS (Secure session cookie, HSTS), socket.io upgrades to a WebSocket through
 * it, and /metrics answers from an allowed address. Skipped where nginx is not installed
 * (Debian: apt-get install nginx); nginx runs in the foreground and is stopped after.
 */
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../../server/paths.js';
import { type Nginx, nginxFolder, runNginx } from '../../helpers/nginx.js';
import { freePort } from '../../helpers/process.js';
import { TEST_API_KEY, type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

let server: TestServer;
let nginx: Nginx | undefined;
let dir: string;
let httpPort: number;
let httpsPort: number;

function request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const req = https.request(url, {
      method, rejectUnauthorized: false,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(async () => {
  // setup.sh --test installs nginx-light; a missing tool is a failure, not a skip.
  dir = nginxFolder();
  server = await startServer();
  httpPort = await freePort();
  httpsPort = await freePort();
  const upstreamPort = new URL(server.url).port;
  const site = readFileSync(path.join(projectRoot, 'deploy', 'nginx', 'openconsult.conf'), 'utf8')
    .replace('server 127.0.0.1:3000;', `server 127.0.0.1:${upstreamPort};`)
    .replace('listen 80;', `listen 127.0.0.1:${httpPort};`).replace('listen [::]:80;', '')
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`).replace('listen [::]:443 ssl http2;', '')
    .replace('/etc/ssl/openconsult/fullchain.pem', path.join(dir, 'cert.pem'))
    .replace('/etc/ssl/openconsult/privkey.pem', path.join(dir, 'key.pem'))
    .replaceAll('/var/log/nginx/openconsult.access.log', path.join(dir, 'access.log'));
  nginx = await runNginx(dir, site, httpsPort);
});

afterAll(async () => {
  await nginx?.close();
  await server?.close();
});

describe('nginx sample in front of the service', () => {
  it('sends plain HTTP to HTTPS', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/console`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe(`https://127.0.0.1/console`);
  });

  it('lets the service see TLS: HSTS, Secure session cookies', async () => {
    const base = `https://127.0.0.1:${httpsPort}`;
    const health = await request('GET', `${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBeDefined();

    const created = await request('POST', `${base}/api/v1/consultations`, { patientPhone: '07700 900808' }, { authorization: `Bearer ${TEST_API_KEY}` });
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.text) as { id: string }).id;
    const sms = (await server.outbox()).find((m) => m.consultationId === id);
    const redeemed = await request('POST', `${base}/api/v1/links/${codeOf(linkIn(sms!.body))}/redeem`);
    expect(redeemed.status).toBe(200);
    const cookie = String(redeemed.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/i);

    // socket.io through the proxy, as a WebSocket from the first packet.
    const socket = io(base, {
      auth: { consultationId: id }, extraHeaders: { cookie: cookie.split(';')[0] as string },
      transports: ['websocket'], reconnection: false, forceNew: true, rejectUnauthorized: false,
    });
    try {
      const joined = await socket.timeout(10_000).emitWithAck('join', {});
      expect(joined).toMatchObject({ ok: true, data: { self: { presence: 'waiting' } } });
      expect(socket.io.engine.transport.name).toBe('websocket');
    } finally {
      socket.disconnect();
    }
  });

  it('serves /metrics to an allowed address', async () => {
    const res = await request('GET', `https://127.0.0.1:${httpsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('openconsult_consultations');
  });

  it('writes access log lines with link codes masked', async () => {
    const base = `https://127.0.0.1:${httpsPort}`;
    const log = path.join(dir, 'access.log');
    // This test's requests carry their own user agent: other tests' lines (a WebSocket is logged
    // when it closes) may land in the same file meanwhile.
    const agent = { 'user-agent': `nginx-log-test-${process.pid}-${Date.now()}` };
    const logLines = () => (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n').filter((l) => l.includes(agent['user-agent']));
    const created = await request('POST', `${base}/api/v1/consultations`, { patientPhone: '07700 900809' }, { authorization: `Bearer ${TEST_API_KEY}`, ...agent });
    const id = (JSON.parse(created.text) as { id: string }).id;
    const code = codeOf(linkIn((await server.outbox()).find((m) => m.consultationId === id)!.body));
    expect((await request('GET', `${base}/j/${code}?from=sms`, undefined, { referer: `${base}/j/${code}`, ...agent })).status).toBe(200);
    expect((await request('POST', `${base}/api/v1/links/${code}/redeem`, undefined, agent)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${httpPort}/j/${code}`, { redirect: 'manual', headers: agent })).status).toBe(301);

    // nginx writes a line once the answer is sent: wait until all four are there.
    for (const until = Date.now() + 5000; logLines().length < 4 && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    const lines = logLines();
    expect(lines).toHaveLength(4);
    expect(lines.join('\n')).not.toContain(code);
    expect(lines[1]).toContain('"GET /j/[code]?from=sms HTTP/');
    expect(lines[1]).toContain(`"${base}/j/[code]"`);
    expect(lines[2]).toContain('"POST /api/v1/links/[code]/redeem HTTP/');
    expect(lines[3]).toContain('"GET /j/[code] HTTP/1.1" 301');
  });
});
