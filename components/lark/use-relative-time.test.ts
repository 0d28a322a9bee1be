import { describe, expect, it } from 'vitest';
import { formatRelative } from './use-relative-time';

const en = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const now = Date.parse('2025-03-01T12:00:00Z');

describe('formatRelative', () => {
  it('says now for the first seconds, then counts them', () => {
    expect(formatRelative(en, new Date(now - 4_000), now)).toBe('now');
    expect(formatRelative(en, new Date(now - 20_000), now)).toBe('20 seconds ago');
  });

  it('picks the largest whole unit', () => {
    expect(formatRelative(en, new Date(now - 5 * 60_000), now)).toBe('5 minutes ago');
    expect(formatRelative(en, new Date(now - 3 * 3600_000), now)).toBe('3 hours ago');
    expect(formatRelative(en, new Date(now - 24 * 3600_000), now)).toBe('yesterday');
    expect(formatRelative(en, '2025-02-01T12:00:00Z', now)).toBe('4 weeks ago');
  });

  it('ignores what is not a date', () => {
    expect(formatRelative(en, 'not a date', now)).toBe('');
  });
});
