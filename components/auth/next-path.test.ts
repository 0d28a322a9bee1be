import { describe, expect, it } from 'vitest';
import { safeNextPath, signInPath } from './next-path';

describe('safeNextPath', () => {
  it('keeps same-site relative paths', () => {
    expect(safeNextPath('/w/acme/chat/123?x=1#m')).toBe('/w/acme/chat/123?x=1#m');
    expect(safeNextPath(['/w/acme', '/other'])).toBe('/w/acme');
  });

  it('rejects anything that could leave the site', () => {
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'evil', '/\t/evil.example', 'javascript:alert(1)', '']) {
      expect(safeNextPath(bad, '/')).toBe('/');
    }
    expect(safeNextPath(undefined)).toBe('/');
  });
});

describe('signInPath', () => {
  it('adds next only when it is useful and safe', () => {
    expect(signInPath('/w/acme/issues')).toBe('/sign-in?next=%2Fw%2Facme%2Fissues');
    expect(signInPath('/')).toBe('/sign-in');
    expect(signInPath('//evil.example')).toBe('/sign-in');
  });
});
