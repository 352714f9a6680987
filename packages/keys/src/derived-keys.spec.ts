import { describe, expect, it } from '@jest/globals';
import { derivePepperKey, macMatches, macOf } from './derived-keys.js';

describe('keys derived from the pepper', () => {
  it('differ per purpose and per pepper; a MAC checks only its own parts', () => {
    const a = derivePepperKey('p'.repeat(40), 'redis key cache');
    expect(a).toHaveLength(32);
    expect(a.equals(derivePepperKey('p'.repeat(40), 'other purpose'))).toBe(false);
    expect(a.equals(derivePepperKey('q'.repeat(40), 'redis key cache'))).toBe(false);
    const mac = macOf(a, 'conifer:auth:key:abc', '{"x":1}');
    expect(macMatches(a, mac, 'conifer:auth:key:abc', '{"x":1}')).toBe(true);
    expect(macMatches(a, mac, 'conifer:auth:key:abd', '{"x":1}')).toBe(false);
    expect(macMatches(a, mac, 'conifer:auth:key:abc', '{"x":2}')).toBe(false);
    expect(macMatches(a, mac, 'conifer:auth:key:abc{"x":1}', '')).toBe(false);
    expect(macMatches(a, 'short', 'conifer:auth:key:abc', '{"x":1}')).toBe(false);
  });
});
