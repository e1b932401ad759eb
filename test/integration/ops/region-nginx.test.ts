/**
 * deploy/region/nginx.conf, checked by nginx -t and run in front of three stand-in nodes that say
 * who they are and what they received: /node/<id>/socket.io/… reaches that node with the prefix
 * stripped (and WebSocket upgrades pass), anything else reaches any node, a dead node is passed
 * over, a node answering 503 (draining) gets no new consultation, /metrics is not served, and
 * link codes never reach the access log. (The real nodes behind it: test/e2e/cluster/.)
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Balancer, startBalancer } from '../../helpers/balancer.js';
import { freePort } from '../../helpers/process.js';

interface Seen { node: string; method: string; url: string; host?: string; proto?: string; forwardedFor?: string }

/**
 * A stand-in node: answers every request with what it saw; `draining` refuses new consultations
 * with 503, `unavailable` (its database away) refuses everything with 503.
 */
class StandIn {
  draining = false;
  unavailable = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly id: string, readonly port: number) {}

  async start(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        if (this.unavailable || (this.draining && req.method === 'POST' && req.url === '/api/v1/consultations')) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' }).end('{"error":{"code":"unavailable"}}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.seen(req)));
      });
    });
    // A WebSocket upgrade: 101, then every byte echoed (the framing is not nginx's business).
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen: ${Buffer.from(JSON.stringify(this.seen(req))).toString('base64')}\r\n\r\n`);
      socket.on('data', (d) => socket.write(d));
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }

  private seen(req: IncomingMessage): Seen {
    const h = req.headers;
    return { node: this.id, method: req.method ?? '', url: req.url ?? '', host: h.host, proto: h['x-forwarded-proto'] as string, forwardedFor: h['x-forwarded-for'] as string };
  }
}

let nodes: StandIn[] = [];
let lb: Balancer;

function request(method: string, route: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>((resolve, reject) => {
    const req = https.request(`${lb.url}${route}`, { method, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
const seen = async (method: string, route: string, headers: Record<string, string> = {}): Promise<Seen> => {
  const res = await request(method, route, headers);
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as Seen;
};

beforeAll(async () => {
  nodes = [];
  for (const id of ['node-a', 'node-b', 'node-c']) nodes.push(new StandIn(id, await freePort()));
  await Promise.all(nodes.map((n) => n.start()));
  lb = await startBalancer(nodes, { tls: true });
});

afterAll(async () => {
  await lb?.close();
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('the region load balancer (deploy/region/nginx.conf)', () => {
  it('routes a node\'s socket.io path to that node, prefix stripped, query kept, over TLS', async () => {
    for (const n of nodes) {
      const s = await seen('GET', `/node/${n.id}/socket.io/?EIO=4&transport=polling&sid=abc`);
      expect(s).toMatchObject({ node: n.id, url: '/socket.io/?EIO=4&transport=polling&sid=abc', host: '127.0.0.1', proto: 'https', forwardedFor: '127.0.0.1' });
    }
  });

  it('answers 404 for a node it does not know, and routes nothing but socket.io by node', async () => {
    expect((await request('GET', '/node/node-x/socket.io/?EIO=4')).status).toBe(404);
    // Anything else under /node/ is an ordinary request, passed on unchanged (the nodes answer 404 to it).
    expect((await seen('GET', '/node/NODE-A/socket.io/?EIO=4')).url).toBe('/node/NODE-A/socket.io/?EIO=4');
    expect((await seen('GET', '/node/node-b/api/v1/consultations')).url).toBe('/node/node-b/api/v1/consultations');
  });

  it('spreads everything else over all nodes', async () => {
    const reached = new Set<string>();
    for (let i = 0; i < 6; i += 1) reached.add((await seen('GET', '/healthz')).node);
    expect([...reached].sort()).toEqual(['node-a', 'node-b', 'node-c']);
  });

  it('keeps one browser\'s first connection on one node (long-polling), and spreads browsers over the nodes', async () => {
    const browsers = Array.from({ length: 30 }, (_, i) => ({ cookie: `oc_s_c${i}=token-${i}` }));
    const first = new Set<string>();
    for (const headers of browsers) {
      const handshake = await seen('GET', '/socket.io/?EIO=4&transport=polling', headers);
      first.add(handshake.node);
      // The same connection's next requests (sid) meet the node that made it.
      for (let i = 0; i < 3; i += 1) expect((await seen('POST', '/socket.io/?EIO=4&transport=polling&sid=s1', headers)).node).toBe(handshake.node);
    }
    expect([...first].sort()).toEqual(['node-a', 'node-b', 'node-c']);
  });

  it('passes a WebSocket upgrade through to the named node', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(lb.url).port), rejectUnauthorized: false, servername: 'localhost' });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write('GET /node/node-c/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
        + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      let got = '';
      await new Promise<void>((resolve) => {
        const onData = (d: Buffer) => {
          got += d.toString();
          if (got.includes('\r\n\r\n')) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
      });
      expect(got).toMatch(/^HTTP\/1\.1 101/);
      const header = /X-Seen: (\S+)/i.exec(got)?.[1] ?? '';
      expect(JSON.parse(Buffer.from(header, 'base64').toString())).toMatchObject({ node: 'node-c', url: '/socket.io/?EIO=4&transport=websocket' });
      const echoed = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
      socket.write('ping through the balancer');
      expect(await echoed).toBe('ping through the balancer');
    } finally {
      socket.destroy();
    }
  });

  it('does not serve /metrics (Prometheus scrapes each node)', async () => {
    expect((await request('GET', '/metrics')).status).toBe(403);
  });

  it('sends plain HTTP to HTTPS', async () => {
    const res = await fetch(`${lb.redirectUrl}/j/abc`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('https://127.0.0.1/j/abc');
  });

  it('gives a new consultation to the next node when one drains (503), and writes no link code to its log', async () => {
    const b = nodes[1] as StandIn;
    b.draining = true;
    try {
      const placed = new Set<string>();
      for (let i = 0; i < 6; i += 1) {
        const res = await request('POST', '/api/v1/consultations');
        expect(res.status).toBe(200);
        placed.add((JSON.parse(res.text) as Seen).node);
      }
      expect(placed.has('node-b')).toBe(false);
    } finally {
      b.draining = false;
    }
    const code = 'Zm9vYmFyYmF6cXV4cXV1eA';
    await seen('GET', `/j/${code}`);
    await seen('POST', `/api/v1/links/${code}/redeem`);
    for (const until = Date.now() + 5000; !lb.accessLog().includes('/redeem') && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
    const log = lb.accessLog();
    expect(log).not.toContain(code);
    expect(log).toContain('"GET /j/[code] HTTP/1.1" 200');
    expect(log).toMatch(/"POST \/api\/v1\/links\/\[code\]\/redeem HTTP\/1\.1" 200 .* 127\.0\.0\.1:\d+/);
  });

  it('passes the nodes\' coded 503 on while the database is away, never its own 502', async () => {
    for (const n of nodes) n.unavailable = true;
    try {
      for (const [method, route] of [['POST', '/api/v1/consultations'], ['GET', '/api/v1/consultations/c1'], ['POST', '/api/v1/consultations'], ['GET', '/j/abc']] as const) {
        const res = await request(method, route);
        expect(res.status, `${method} ${route}`).toBe(503);
        expect(res.headers['retry-after']).toBe('30');
        expect(JSON.parse(res.text)).toEqual({ error: { code: 'unavailable' } });
      }
    } finally {
      for (const n of nodes) n.unavailable = false;
    }
    // Back at once: no node was marked down for it.
    for (const n of nodes) expect((await seen('GET', `/node/${n.id}/socket.io/`)).node).toBe(n.id);
    const reached = new Set<string>();
    for (let i = 0; i < 6; i += 1) reached.add((await seen('GET', '/healthz')).node);
    expect(reached.size).toBe(3);
  });

  it('passes over a node that is down; its own path answers 502 (the page then starts over)', async () => {
    const a = nodes[0] as StandIn;
    await a.stop();
    for (let i = 0; i < 6; i += 1) expect((await seen('GET', '/socket.io/?EIO=4&transport=polling')).node).not.toBe('node-a');
    expect((await seen('POST', '/api/v1/consultations')).node).not.toBe('node-a');
    expect((await request('GET', '/node/node-a/socket.io/?EIO=4&transport=polling')).status).toBe(502);
  });
});
