import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../errors.js';
import { indexModelShape, negotiateApiVersion, parseApiVersion } from './api-version.js';

describe('X-Pinecone-Api-Version', () => {
  it('means the newest version when missing or empty', () => {
    expect(parseApiVersion(undefined)).toBe('2026-07');
    expect(parseApiVersion(' ')).toBe('2026-07');
  });

  it.each(['2025-04', '2025-10', '2026-04', '2026-07', '2024-07'])('accepts %s', (version) => {
    expect(parseApiVersion(version)).toBe(version);
  });

  it.each(['2027-01', 'latest', '2026-07; drop', '2026-01.alpha'])('400 for %s, naming the supported versions', (version) => {
    expect(() => parseApiVersion(version)).toThrow(InvalidArgumentError);
    expect(() => parseApiVersion(version)).toThrow(/supported versions: .*2025-04.*2026-07/);
  });

  it('400 for a repeated header', () => {
    expect(() => parseApiVersion(['2026-07', '2025-04'])).toThrow(/once/);
  });

  it('serves the classic index model up to 2026-04 and the schema model from 2026-07', () => {
    expect(indexModelShape('2025-04')).toBe('classic');
    expect(indexModelShape('2026-04')).toBe('classic');
    expect(indexModelShape('2026-07')).toBe('schema');
  });

  it('marks a request without the header as unversioned (newest shape, either body model)', () => {
    expect(negotiateApiVersion(undefined)).toEqual({ version: '2026-07', explicit: false });
    expect(indexModelShape(negotiateApiVersion(undefined))).toBe('unversioned');
    expect(indexModelShape(negotiateApiVersion('2026-07'))).toBe('schema');
    expect(indexModelShape(negotiateApiVersion('2025-10'))).toBe('classic');
  });
});
