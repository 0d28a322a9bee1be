import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { addressLiteral, checkAddress, isAllowlistedHost, type BlockedRange, type EndpointAllowlist } from './endpoint-allowlist';

const RANGE_WORDS: Record<BlockedRange, string> = {
  loopback: 'a loopback',
  private: 'a private-network',
  link_local: 'a link-local',
  unspecified: 'an unspecified',
  multicast: 'a multicast or broadcast',
  reserved: 'a reserved',
};

/** A call refused because the endpoint's address is not on the public internet nor allowlisted. */
export class BlockedEndpointError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: BlockedRange,
  ) {
    super(`${hostname} leads to ${RANGE_WORDS[range]} address (${address}), which is not in AGENT_ENDPOINT_ALLOWLIST`);
    this.name = 'BlockedEndpointError';
  }
}

/** Finds a BlockedEndpointError in an error's cause chain (fetch and SDKs wrap it). */
export function blockedEndpointCause(err: unknown): BlockedEndpointError | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof BlockedEndpointError) return e;
  }
  return null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The shape of `dns.lookup` the guard needs; tests pass their own resolver. */
export type Resolver = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export type GuardedFetchOptions = {
  allowlist: EndpointAllowlist;
  resolve?: Resolver;
  connectTimeoutMs?: number;
};

/** A fetch that can only reach public addresses and allowlisted endpoints, and follows no redirects. */
export type GuardedFetch = ((input: string | URL | Request, init?: RequestInit) => Promise<Response>) & { close(): Promise<void> };

/**
 * Every outbound call to an endpoint a user configured goes through here. The address is checked
 * when the socket is opened, on the addresses the resolver returned for this very connection and
 * again on the address the socket actually reached, so a name that re-resolves to an internal
 * address between checks (DNS rebinding) still cannot be dialled.
 */
export function createGuardedFetch(opts: GuardedFetchOptions): GuardedFetch {
  const { allowlist } = opts;
  const resolve: Resolver = opts.resolve ?? ((hostname, options, callback) => dns.lookup(hostname, options, callback));

  // Node's socket calls this for names (never for address literals), once per connection attempt.
  const lookup = (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const trusted = isAllowlistedHost(hostname, allowlist);
      // Only the permitted addresses are offered: a name with both public and internal records is
      // dialled on the public ones only.
      const usable = trusted ? addresses : addresses.filter((a) => checkAddress(a.address, allowlist).allowed);
      if (usable.length === 0) {
        const first = addresses[0];
        const verdict = first ? checkAddress(first.address, allowlist) : null;
        return callback(new BlockedEndpointError(hostname, first?.address ?? 'none', verdict && !verdict.allowed ? verdict.range : 'reserved'), []);
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0]!.address, usable[0]!.family);
    });
  };

  const openSocket = buildConnector({ lookup, timeout: opts.connectTimeoutMs ?? 10_000 });
  const connect: buildConnector.connector = (options, callback) => {
    const { hostname } = options;
    const trusted = isAllowlistedHost(hostname, allowlist);
    const literal = addressLiteral(hostname);
    if (literal && !trusted) {
      const verdict = checkAddress(literal, allowlist);
      // Refused before any packet is sent: even a TCP handshake would probe the internal network.
      if (!verdict.allowed) return callback(new BlockedEndpointError(hostname, literal, verdict.range), null);
    }
    openSocket(options, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('connection failed'), null);
      const remote = socket.remoteAddress;
      const verdict = trusted ? ({ allowed: true } as const) : remote ? checkAddress(remote, allowlist) : ({ allowed: false, range: 'reserved' } as const);
      if (!verdict.allowed) {
        socket.destroy();
        return callback(new BlockedEndpointError(hostname, remote ?? 'unknown', verdict.range), null);
      }
      callback(null, socket);
    });
  };

  const dispatcher = new Agent({ connect });
  const guarded = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // A Request object carries its own method and body that undici's fetch would not see.
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('guarded fetch takes a URL, not a Request');
    try {
      // No redirects: a public endpoint must not be able to send the call (and its key) elsewhere.
      const res = await undiciFetch(input, { ...(init as UndiciRequestInit), redirect: 'manual', dispatcher });
      return res as unknown as Response;
    } catch (err) {
      throw blockedEndpointCause(err) ?? err;
    }
  };
  return Object.assign(guarded, { close: () => dispatcher.close() });
}
