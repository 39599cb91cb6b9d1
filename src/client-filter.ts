/**
 * AllowedClients / BlockedClients: comma-separated addresses with `*` wildcards, matched
 * against the client's IP address. `localhost` stands for the loopback addresses.
 */

/** Normalises an address as Node reports it (IPv4-mapped IPv6 becomes plain IPv4). */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

const LOOPBACK = ['127.0.0.1', '::1'];

/** Whether `address` matches any entry of a comma-separated pattern list. */
export function addressMatches(list: string, address: string): boolean {
  const ip = normaliseAddress(address);
  for (const raw of list.split(',')) {
    const pattern = raw.trim();
    if (pattern === '') continue;
    if (pattern === '*') return true;
    if (pattern.toLowerCase() === 'localhost') {
      if (LOOPBACK.includes(ip) || ip.startsWith('127.')) return true;
      continue;
    }
    if (patternToRegExp(normaliseAddress(pattern)).test(ip)) return true;
  }
  return false;
}

/** Whether the filters let `address` in: it matches AllowedClients and not BlockedClients. */
export function clientAllowed(allowed: string, blocked: string, address: string): boolean {
  return addressMatches(allowed, address) && !addressMatches(blocked, address);
}
