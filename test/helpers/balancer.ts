/**
 * deploy/region/nginx.conf on loopback, rewritten only where a test must: its listen ports, the
 * nodes' addresses (one line per node in the upstream and in the map, with the test's NODE_IDs),
 * the certificate and the log. Everything else (routing, timeouts, failover) is the file as shipped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../server/paths.js';
import { type Nginx, nginxFolder, runNginx } from './nginx.js';
import { freePort } from './process.js';

export interface BalancedNode {
  id: string;
  port: number;
}

export interface Balancer extends Nginx {
  /** The region's address for browsers and the API: https when `tls`, else plain http. */
  url: string;
  /** The plain-HTTP server that redirects to HTTPS. */
  redirectUrl: string;
}

/** Replaces each match of `pattern` (global, multiline) by `lines(match)`, failing if the file no longer has one. */
function replaceRuns(site: string, pattern: RegExp, lines: (match: string) => string): string {
  let found = false;
  const out = site.replace(pattern, (m) => {
    found = true;
    return lines(m);
  });
  if (!found) throw new Error(`deploy/region/nginx.conf: nothing matches ${pattern}`);
  return out;
}

function replaceOnce(site: string, from: string, to: string): string {
  if (!site.includes(from)) throw new Error(`deploy/region/nginx.conf: "${from}" is gone`);
  return site.replaceAll(from, to);
}

/** The reference file for `nodes` on 127.0.0.1; `tls`: the main server keeps `ssl` (else plain HTTP on the same port). */
export function regionSite(dir: string, nodes: readonly BalancedNode[], ports: { main: number; redirect: number }, tls: boolean): string {
  let site = readFileSync(path.join(projectRoot, 'deploy', 'region', 'nginx.conf'), 'utf8');
  // Each upstream's run of server lines, with the options of its first line.
  site = replaceRuns(site, /^(?:[ \t]*server 10\.0\.0\.\d+:3000[^;\n]*;\n)+/gm, (run) => {
    const options = /^[ \t]*server \S+?((?: [^;\n]*)?);/.exec(run)?.[1] ?? '';
    return nodes.map((n) => `    server 127.0.0.1:${n.port}${options};\n`).join('');
  });
  site = replaceRuns(site, /^(?:[ \t]*node-[a-z][ \t]+10\.0\.0\.\d+:3000;\n)+/gm, () => nodes.map((n) => `    ${n.id} 127.0.0.1:${n.port};\n`).join(''));
  site = replaceOnce(site, 'listen 80;', `listen 127.0.0.1:${ports.redirect};`);
  site = replaceOnce(site, 'listen 443 ssl http2;', tls ? `listen 127.0.0.1:${ports.main} ssl http2;` : `listen 127.0.0.1:${ports.main};`);
  site = replaceRuns(site, /^[ \t]*listen \[::\]:\d+[^;\n]*;\n/gm, () => '');
  site = replaceOnce(site, '/etc/ssl/openconsult/fullchain.pem', path.join(dir, 'cert.pem'));
  site = replaceOnce(site, '/etc/ssl/openconsult/privkey.pem', path.join(dir, 'key.pem'));
  return replaceOnce(site, '/var/log/nginx/openconsult-region.access.log', path.join(dir, 'access.log'));
}

/** nginx with the region file in front of `nodes` (checked with nginx -t first). */
export async function startBalancer(nodes: readonly BalancedNode[], opts: { tls?: boolean; port?: number } = {}): Promise<Balancer> {
  const tls = opts.tls ?? false;
  const dir = nginxFolder();
  const ports = { main: opts.port ?? await freePort(), redirect: await freePort() };
  const nginx = await runNginx(dir, regionSite(dir, nodes, ports, tls), ports.main);
  return { ...nginx, url: `${tls ? 'https' : 'http'}://127.0.0.1:${ports.main}`, redirectUrl: `http://127.0.0.1:${ports.redirect}` };
}
