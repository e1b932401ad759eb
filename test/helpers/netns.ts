/**
 * A phone on a network of its own: a network namespace joined to this machine by a veth pair, the
 * service reached on an address added to `lo` (design.md section 6). The link is shaped for real
 * (`tc tbf` on either end of the veth: this kernel has no netem), loses packets for real (nftables
 * `numgen random`, inside the namespace so nothing else on the machine is touched) and can be cut
 * or blocked per address. Needs root.
 *
 *   service 10.N.0.1/32 on lo  <-  host end 10.N.1.1/24 (ocNh)  ==veth==  (ocNp) 10.N.1.2/24 phone
 *
 * `N` (20..250) keeps tests that run one after another apart; each test file takes its own.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromiumPath, launchBrowser, type TestBrowser } from './browser.js';

export type Direction = 'down' | 'up';

export interface PhoneNet {
  /** The network namespace's name (`ip netns exec <name> ...`). */
  name: string;
  /** Where the service listens (HTTP and media); reachable from the host and from the phone. */
  serviceAddress: string;
  /** The phone's own address inside its namespace. */
  phoneAddress: string;
  /** The host's end of the veth pair, as the phone sees it. */
  hostAddress: string;
  /** Limits one direction: `down` towards the phone, `up` from it. Replaces an earlier limit. */
  limit(direction: Direction, kbit: number): void;
  /** Lifts the limit of one direction, or of both. */
  unlimit(direction?: Direction): void;
  /** Drops `percent` of the phone's packets at random, each way. */
  loss(percent: number): void;
  noLoss(): void;
  /** Runs an nftables ruleset inside the phone's namespace as table `inet <table>` (replaced if there). */
  rules(table: string, chains: string): void;
  removeRules(table: string): void;
  /** The phone reaches the service's address and nothing else (table `oc_only_service`): no direct path to another browser. */
  onlyService(): void;
  /** A Chromium running inside the namespace, the service address treated as secure for the camera. */
  launch(opts?: { cameras?: number; url?: string; args?: string[] }): Promise<TestBrowser>;
  close(): Promise<void>;
}

const run = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], input });
const quiet = (cmd: string, args: string[]) => {
  try {
    run(cmd, args);
  } catch {
    // already gone
  }
};

/** Whether this machine can make one (root, `ip`, `tc` and `nft`). */
export function canMakePhoneNet(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    run('ip', ['-V']);
    run('tc', ['-V']);
    run('nft', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export async function phoneNetwork(n: number): Promise<PhoneNet> {
  if (!Number.isInteger(n) || n < 20 || n > 250) throw new Error(`phoneNetwork: ${n} is not in 20..250`);
  const name = `oc-phone-${n}`;
  const hostIf = `oc${n}h`;
  const phoneIf = `oc${n}p`;
  const serviceAddress = `10.${n}.0.1`;
  const hostAddress = `10.${n}.1.1`;
  const phoneAddress = `10.${n}.1.2`;
  const inNs = (cmd: string, args: string[], input?: string) => run('ip', ['netns', 'exec', name, cmd, ...args], input);

  // Whatever an earlier run that was killed left behind.
  quiet('ip', ['netns', 'del', name]);
  quiet('ip', ['link', 'del', hostIf]);
  quiet('ip', ['addr', 'del', `${serviceAddress}/32`, 'dev', 'lo']);

  run('ip', ['netns', 'add', name]);
  run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', phoneIf]);
  run('ip', ['link', 'set', phoneIf, 'netns', name]);
  run('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', hostIf]);
  run('ip', ['link', 'set', hostIf, 'up']);
  run('ip', ['addr', 'add', `${serviceAddress}/32`, 'dev', 'lo']);
  inNs('ip', ['addr', 'add', `${phoneAddress}/24`, 'dev', phoneIf]);
  inNs('ip', ['link', 'set', phoneIf, 'up']);
  inNs('ip', ['link', 'set', 'lo', 'up']);
  inNs('ip', ['route', 'add', 'default', 'via', hostAddress]);

  const work = await mkdtemp(path.join(tmpdir(), 'openconsult-netns-'));
  // puppeteer starts the executable it is given: this one enters the namespace first.
  const wrapper = path.join(work, 'chromium');
  await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${chromiumPath} "$@"\n`);
  await chmod(wrapper, 0o755);
  const browsers = new Set<TestBrowser>();

  // `down` is what leaves the host's end towards the phone, `up` what leaves the phone's end.
  const tc = (d: Direction, verb: string, rest: string[] = []) => (d === 'down'
    ? run('tc', ['qdisc', verb, 'dev', hostIf, ...rest])
    : inNs('tc', ['qdisc', verb, 'dev', phoneIf, ...rest]));

  const net: PhoneNet = {
    name, serviceAddress, phoneAddress, hostAddress,
    limit(direction, kbit) {
      // A burst of 16 kB and 300 ms of queue: what design.md section 6 verified on a veth.
      tc(direction, 'replace', ['root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '16kb', 'latency', '300ms']);
    },
    unlimit(direction) {
      for (const d of direction ? [direction] : (['down', 'up'] as const)) {
        try {
          tc(d, 'del', ['root']);
        } catch {
          // no limit there
        }
      }
    },
    loss(percent) {
      net.rules('oc_loss', `
  chain in {
    type filter hook input priority 0; policy accept;
    numgen random mod 100 < ${percent} drop
  }
  chain out {
    type filter hook output priority 0; policy accept;
    numgen random mod 100 < ${percent} drop
  }`);
    },
    noLoss() {
      net.removeRules('oc_loss');
    },
    rules(table, chains) {
      net.removeRules(table);
      inNs('nft', ['-f', '-'], `table inet ${table} {${chains}\n}\n`);
    },
    onlyService() {
      net.rules('oc_only_service', `
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr != ${serviceAddress} meta l4proto { tcp, udp } drop
  }
  chain in {
    type filter hook input priority 0; policy accept;
    ip saddr != ${serviceAddress} meta l4proto { tcp, udp } drop
  }`);
    },
    removeRules(table) {
      try {
        inNs('nft', ['delete', 'table', 'inet', table]);
      } catch {
        // not there
      }
    },
    async launch(opts = {}) {
      const origin = opts.url ?? `http://${serviceAddress}`;
      const b = await launchBrowser(opts.cameras ?? 1, {
        executablePath: wrapper,
        // Under `ip netns exec` Chromium's DevTools port is unreachable: puppeteer talks over a pipe.
        pipe: true,
        args: [`--unsafely-treat-insecure-origin-as-secure=${origin}`, ...(opts.args ?? [])],
      });
      browsers.add(b);
      return b;
    },
    async close() {
      await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
      browsers.clear();
      quiet('ip', ['netns', 'del', name]);
      quiet('ip', ['link', 'del', hostIf]);
      quiet('ip', ['addr', 'del', `${serviceAddress}/32`, 'dev', 'lo']);
      await rm(work, { recursive: true, force: true });
    },
  };
  return net;
}
