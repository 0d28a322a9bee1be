import { describe, expect, it } from 'vitest';
import { installErrorKey } from './lark-links';

describe('installErrorKey', () => {
  it('passes known reasons through', () => {
    for (const reason of ['expired', 'access_denied', 'lark_protocol_error', 'bot_info_failed', 'installation_conflict', 'installer_bind_failed', 'internal_error']) {
      expect(installErrorKey(reason)).toBe(reason);
    }
  });

  it('maps anything else to unknown', () => {
    expect(installErrorKey(undefined)).toBe('unknown');
    expect(installErrorKey('quota_exceeded')).toBe('unknown');
    expect(installErrorKey('toString')).toBe('unknown');
  });
});
