import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Why an address may not be called: the kind of network it belongs to. */
export type BlockedRange = 'loopback' | 'private' | 'link_local' | 'unspecified' | 'multicast' | 'reserved';

export type AddressVerdict = { allowed: true } | { allowed: false; range: BlockedRange };

/**
 * What the operator allows beyond the public internet (AGENT_ENDPOINT_ALLOWLIST): host names whose
 * addresses are all trusted, and address ranges trusted whatever name led to them.
 */
export type EndpointAllowlist = { hosts: string[]; ranges: Array<[Address, number]> };

export const EMPTY_ALLOWLIST: EndpointAllowlist = { hosts: [], ranges: [] };

export class AllowlistError extends Error {}

// A host name as it appears in a URL, optionally starting with `*.` for every subdomain.
const HOST_ENTRY = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

// Everything routable on the public IPv6 internet lives in 2000::/3; the rest is special-purpose.
const GLOBAL_UNICAST_V6: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];

const stripBrackets = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
const normalizeHost = (host: string) => stripBrackets(host.trim().toLowerCase()).replace(/\.$/, '');

/** Comma-separated host names (`models.internal`, `*.corp.example`), addresses or CIDR ranges. */
export function parseEndpointAllowlist(raw: string | undefined): EndpointAllowlist {
  const out: EndpointAllowlist = { hosts: [], ranges: [] };
  for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const bare = stripBrackets(entry);
    if (bare.includes('/')) {
      // Four-part decimal only: "10/8" or "0x7f.1/32" are more likely typos than intent.
      if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(bare) && !ipaddr.IPv6.isValidCIDR(bare)) {
        throw new AllowlistError(`"${entry}" is not a valid CIDR range`);
      }
      const [address, bits] = ipaddr.parseCIDR(bare);
      const v4 = unmapped(address);
      // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared after unmapping.
      out.ranges.push(v4 !== address && bits >= 96 ? [v4, bits - 96] : [address, bits]);
    } else if (ipaddr.IPv4.isValidFourPartDecimal(bare) || ipaddr.IPv6.isValid(bare)) {
      const address = unmapped(ipaddr.parse(bare));
      out.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (HOST_ENTRY.test(normalizeHost(entry))) {
      out.hosts.push(normalizeHost(entry));
    } else {
      throw new AllowlistError(`"${entry}" is neither a host name nor an IP address or CIDR range`);
    }
  }
  return out;
}

/** An IPv4-mapped IPv6 address (::ffff:127.0.0.1) reaches the IPv4 host, so it is judged as one. */
function unmapped(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** The kind of non-public network an address belongs to, or null for a public unicast address. */
function blockedRange(address: Address): BlockedRange | null {
  if (address.kind() === 'ipv4') {
    switch ((address as ipaddr.IPv4).range()) {
      case 'unicast':
        return null;
      case 'loopback':
        return 'loopback';
      case 'private':
      case 'carrierGradeNat':
        return 'private';
      case 'linkLocal':
        return 'link_local';
      case 'unspecified':
        return 'unspecified';
      case 'multicast':
      case 'broadcast':
        return 'multicast';
      default:
        return 'reserved';
    }
  }
  const v6 = address as ipaddr.IPv6;
  switch (v6.range()) {
    case 'unicast':
      return v6.match(GLOBAL_UNICAST_V6) ? null : 'reserved';
    case 'loopback':
      return 'loopback';
    case 'uniqueLocal':
      return 'private';
    case 'linkLocal':
      return 'link_local';
    case 'unspecified':
      return 'unspecified';
    case 'multicast':
      return 'multicast';
    // NAT64, 6to4, Teredo, IPv4-translated and the rest can all lead back into private IPv4 space.
    default:
      return 'reserved';
  }
}

function inAllowedRange(address: Address, allowlist: EndpointAllowlist): boolean {
  return allowlist.ranges.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));
}

/** Whether an address may be dialled: public unicast, or inside a range the operator allowed. */
export function checkAddress(raw: string, allowlist: EndpointAllowlist): AddressVerdict {
  let address: Address;
  try {
    address = unmapped(ipaddr.parse(stripBrackets(raw).split('%')[0]!));
  } catch {
    return { allowed: false, range: 'reserved' };
  }
  const range = blockedRange(address);
  if (range === null || inAllowedRange(address, allowlist)) return { allowed: true };
  return { allowed: false, range };
}

/** Whether the operator trusts this host name, whatever it resolves to. */
export function isAllowlistedHost(hostname: string, allowlist: EndpointAllowlist): boolean {
  const host = normalizeHost(hostname);
  return allowlist.hosts.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry));
}

/** An address literal as a URL carries it (IPv6 in brackets, IPv4 already normalized by the URL parser). */
export function addressLiteral(hostname: string): string | null {
  const bare = stripBrackets(hostname);
  return ipaddr.IPv4.isValidFourPartDecimal(bare) || ipaddr.IPv6.isValid(bare) ? bare : null;
}

const LOOPBACK_NAMES = /^(localhost|.+\.localhost)$/;

/**
 * The verdict on a URL's host that needs no DNS: address literals and `localhost` names (which
 * resolve locally, never through DNS). Other names return null and are judged when dialled.
 */
export function checkUrlHost(hostname: string, allowlist: EndpointAllowlist): AddressVerdict | null {
  if (isAllowlistedHost(hostname, allowlist)) return { allowed: true };
  const literal = addressLiteral(hostname);
  if (literal) return checkAddress(literal, allowlist);
  if (LOOPBACK_NAMES.test(normalizeHost(hostname))) {
    const v4 = checkAddress('127.0.0.1', allowlist);
    return v4.allowed ? v4 : checkAddress('::1', allowlist);
  }
  return null;
}
