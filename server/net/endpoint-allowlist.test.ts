import { describe, expect, test } from 'vitest';
import { AllowlistError, checkAddress, checkUrlHost, EMPTY_ALLOWLIST, isAllowlistedHost, parseEndpointAllowlist } from './endpoint-allowlist';

describe('checkAddress without an allowlist', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'multicast'],
    ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['not an address', 'reserved'],
  ])('refuses %s (%s)', (address, range) => {
    expect(checkAddress(address, EMPTY_ALLOWLIST)).toEqual({ allowed: false, range });
  });

  test.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(checkAddress(address, EMPTY_ALLOWLIST)).toEqual({ allowed: true });
  });
});

describe('the allowlist', () => {
  test('parses hosts, addresses and CIDR ranges, and rejects anything else', () => {
    const list = parseEndpointAllowlist(' models.internal, *.corp.example ,10.20.0.0/16, ::1, [fd00::5], ::ffff:192.168.0.0/112 ');
    expect(list.hosts).toEqual(['models.internal', '*.corp.example']);
    expect(list.ranges).toHaveLength(4);
    expect(() => parseEndpointAllowlist('10/8')).toThrow(AllowlistError);
    expect(() => parseEndpointAllowlist('http://models.internal')).toThrow(AllowlistError);
    expect(() => parseEndpointAllowlist('10.0.0.0/33')).toThrow(AllowlistError);
    expect(parseEndpointAllowlist(undefined)).toEqual(EMPTY_ALLOWLIST);
  });

  test('lets allowlisted ranges through, in mapped form too, and nothing next to them', () => {
    const list = parseEndpointAllowlist('10.20.0.0/16,::1,::ffff:192.168.0.0/112');
    expect(checkAddress('10.20.3.4', list)).toEqual({ allowed: true });
    expect(checkAddress('::ffff:10.20.3.4', list)).toEqual({ allowed: true });
    expect(checkAddress('10.21.0.1', list)).toEqual({ allowed: false, range: 'private' });
    expect(checkAddress('::1', list)).toEqual({ allowed: true });
    expect(checkAddress('127.0.0.1', list)).toEqual({ allowed: false, range: 'loopback' });
    expect(checkAddress('192.168.7.7', list)).toEqual({ allowed: true });
  });

  test('matches host names exactly or by subdomain wildcard, case and trailing dot aside', () => {
    const list = parseEndpointAllowlist('models.internal,*.corp.example');
    expect(isAllowlistedHost('MODELS.internal.', list)).toBe(true);
    expect(isAllowlistedHost('llm.corp.example', list)).toBe(true);
    expect(isAllowlistedHost('corp.example', list)).toBe(false);
    expect(isAllowlistedHost('evilcorp.example', list)).toBe(false);
    expect(isAllowlistedHost('models.internal.evil.example', list)).toBe(false);
  });
});

describe('checkUrlHost (what the web can judge when a base URL is saved)', () => {
  test('judges literals and localhost names, and leaves other names to connect time', () => {
    expect(checkUrlHost(new URL('http://[::ffff:7f00:1]/').hostname, EMPTY_ALLOWLIST)).toEqual({ allowed: false, range: 'loopback' });
    expect(checkUrlHost(new URL('http://2130706433/').hostname, EMPTY_ALLOWLIST)).toEqual({ allowed: false, range: 'loopback' });
    expect(checkUrlHost('api.localhost', EMPTY_ALLOWLIST)).toEqual({ allowed: false, range: 'loopback' });
    expect(checkUrlHost('api.openai.com', EMPTY_ALLOWLIST)).toBeNull();
    expect(checkUrlHost('localhost', parseEndpointAllowlist('127.0.0.1'))).toEqual({ allowed: true });
    expect(checkUrlHost('93.184.216.34', EMPTY_ALLOWLIST)).toEqual({ allowed: true });
  });
});
