/** The production coturn sample keeps the promises the README makes for NHS networks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../server/paths.js';

const lines = readFileSync(path.join(projectRoot, 'config', 'coturn.production.conf'), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('production coturn sample', () => {
  it('offers TURN over TLS on 443 with ephemeral (REST API) credentials and no CLI', () => {
    expect(lines).toContain('tls-listening-port=443');
    expect(lines).toContain('use-auth-secret');
    expect(lines).toContain('no-cli');
    expect(lines.some((l) => l.startsWith('cert=')) && lines.some((l) => l.startsWith('pkey='))).toBe(true);
  });

  it('denies private, loopback and IPv4-mapped loopback peers, and never allows loopback', () => {
    const denied = lines.filter((l) => l.startsWith('denied-peer-ip=')).map((l) => l.slice('denied-peer-ip='.length));
    for (const range of ['10.0.0.0-10.255.255.255', '127.0.0.0-127.255.255.255', '172.16.0.0-172.31.255.255',
      '192.168.0.0-192.168.255.255', '169.254.0.0-169.254.255.255', '::1', '::ffff:0.0.0.0-::ffff:255.255.255.255']) {
      expect(denied).toContain(range);
    }
    expect(lines).not.toContain('allow-loopback-peers');
  });
});
