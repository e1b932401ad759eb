/** Whether a client address is in a configured list of addresses and CIDRs (TRUST_PROXY's form). */
import { BlockList, isIP } from 'node:net';

/** Built once from the setting; an entry that is not an address throws, naming it. */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address or CIDR: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  // BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against IPv4 rules.
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
