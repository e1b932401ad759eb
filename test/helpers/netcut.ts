/**
 * Cuts media for real: an nftables table that drops UDP and TCP to and from a port range on
 * this machine (the server's media ports). DevTools' offline mode would only close WebSockets and
 * leave WebRTC flowing. Needs root; the table is removed again by `restore` or `removeAll`.
 */
import { execFileSync } from 'node:child_process';

const TABLE = 'openconsult_test_cut';

export interface NetCut {
  restore(): void;
}

export function cutPorts(min: number, max: number): NetCut {
  const range = `${min}-${max}`;
  const ruleset = `
table inet ${TABLE} {
  chain input {
    type filter hook input priority -10; policy accept;
    udp dport ${range} drop
    udp sport ${range} drop
    tcp dport ${range} drop
    tcp sport ${range} drop
  }
}
`;
  execFileSync('nft', ['-f', '-'], { input: ruleset });
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      removeAll();
    },
  };
}

export function removeAll(): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', TABLE], { stdio: 'ignore' });
  } catch {
    // not there
  }
}
