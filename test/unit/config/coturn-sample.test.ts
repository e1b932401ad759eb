/** The production coturn sample keeps the promises the README makes for NHS networks. */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { settings } from '../../../config/settings.js';
import { projectRoot } from '../../../server/paths.js';

const text = readFileSync(path.join(projectRoot, 'config', 'coturn.production.conf'), 'utf8');
const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const values = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
const value = (key: string) => {
  const [v, ...more] = values(key);
  expect(v, key).toBeDefined();
  expect(more, key).toEqual([]);
  return v as string;
};

describe('production coturn sample', () => {
  it('offers TURN over TLS on 443 with ephemeral (REST API) credentials and no CLI', () => {
    expect(lines).toContain('tls-listening-port=443');
    expect(lines).toContain('use-auth-secret');
    expect(lines).toContain('no-cli');
    expect(lines.some((l) => l.startsWith('cert=')) && lines.some((l) => l.startsWith('pkey='))).toBe(true);
  });

  it('denies every peer but the SFU\'s one address, and never allows loopback', () => {
    const denied = values('denied-peer-ip');
    expect(denied).toContain('0.0.0.0-255.255.255.255');
    expect(denied).toContain('::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    const allowed = values('allowed-peer-ip');
    expect(allowed).toHaveLength(1);
    expect(isIP(allowed[0] as string)).not.toBe(0); // one address, not a range
    expect(lines).not.toContain('allow-loopback-peers');
  });

  it('keeps relayed packets to the SFU\'s media ports with the firewall rule it shows', () => {
    const [sfu] = values('allowed-peer-ip');
    const relayPorts = `${value('min-port')}-${value('max-port')}`;
    const sfuPorts = `${settings.rtcMinPort.default}-${settings.rtcMaxPort.default}`;
    expect(text).toContain(`#       udp sport ${relayPorts} ip daddr ${sfu} udp dport ${sfuPorts} accept`);
    expect(text).toContain(`#       udp sport ${relayPorts} drop`);
  });

  it('relays UDP only, with bandwidth and allocation quotas that fit the relay ports', () => {
    expect(lines).toContain('no-tcp-relay');
    const maxBps = Number(value('max-bps'));
    // Enough for two received videos (3-5 Mbit/s), far from a relay for bulk traffic.
    expect(maxBps).toBeGreaterThanOrEqual(500_000);
    expect(maxBps).toBeLessThanOrEqual(1_250_000);
    expect(Number(value('bps-capacity'))).toBeGreaterThan(maxBps);
    const userQuota = Number(value('user-quota'));
    const totalQuota = Number(value('total-quota'));
    expect(userQuota).toBeGreaterThanOrEqual(4);
    expect(userQuota).toBeLessThanOrEqual(12);
    expect(totalQuota).toBeLessThanOrEqual(Number(value('max-port')) - Number(value('min-port')) + 1);
  });
});
