import { describe, expect, it } from '@jest/globals';
import {
  encodeAuditPaginationToken,
  parseName,
  parseScope,
  parseAuditPageRequest,
  parseCreateApiKeyRequest,
  parseCreateProjectRequest,
  parseRotateApiKeyRequest,
  parseTokenRequest,
  parseUpdateApiKeyRequest,
} from './admin.js';
import { InvalidArgumentError } from './errors.js';

const now = new Date('2030-01-01T00:00:00Z');

describe('admin parsers', () => {
  it('API key create: defaults, snake and camel names', () => {
    expect(parseCreateApiKeyRequest({ name: 'k' }, now)).toEqual({
      name: 'k',
      roles: ['ProjectEditor'],
      expiresAt: null,
      scope: { indexes: [], namespaces: [] },
      rateLimitPerSecond: null,
    });
    const full = parseCreateApiKeyRequest(
      { name: 'k', roles: ['DataPlaneViewer', 'DataPlaneViewer'], expiresInSeconds: 60, scope: { namespaces: [''] }, rateLimitPerSecond: 5 },
      now,
    );
    expect(full).toEqual({
      name: 'k',
      roles: ['DataPlaneViewer'],
      expiresAt: new Date('2030-01-01T00:01:00Z'),
      scope: { indexes: [], namespaces: [''] },
      rateLimitPerSecond: 5,
    });
    expect(parseCreateApiKeyRequest({ name: 'k', expires_at: '2030-02-01T00:00:00+01:00' }, now).expiresAt).toEqual(new Date('2030-01-31T23:00:00Z'));
    expect(parseCreateApiKeyRequest({ name: 'k', expires_at: '2032-02-29T12:30:59.5-05:30' }, now).expiresAt).toEqual(new Date('2032-02-29T18:00:59.5Z'));
  });

  it('API key create: refusals', () => {
    const bad: unknown[] = [
      null,
      [],
      'k',
      {},
      { name: '' },
      { name: '   ' },
      { name: 'a'.repeat(81) },
      { name: 'tab\there' },
      { name: 'k', roles: ['Owner'] },
      { name: 'k', roles: [] },
      { name: 'k', expires_at: '2029-12-31T23:59:59Z' },
      { name: 'k', expires_at: '2030-13-01T00:00:00Z' },
      // Date would read these as 3 March, 1 May, the next day and the next hour: invalid dates are refused.
      { name: 'k', expires_at: '2030-02-31T00:00:00Z' },
      { name: 'k', expires_at: '2030-04-31T00:00:00Z' },
      { name: 'k', expires_at: '2030-02-29T00:00:00Z' },
      { name: 'k', expires_at: '2030-01-01T24:00:00Z' },
      { name: 'k', expires_at: '2030-01-01T12:60:00Z' },
      { name: 'k', expires_at: '2030-01-01T12:00:60Z' },
      { name: 'k', expires_at: '2030-01-01T12:00:00+24:00' },
      { name: 'k', expires_at: '2030-02-31' },
      { name: 'k', expires_at: 1234 },
      { name: 'k', expires_in_seconds: 0 },
      { name: 'k', expires_in_seconds: 5, expires_at: '2031-01-01T00:00:00Z' },
      { name: 'k', scope: { indexes: [''] } },
      { name: 'k', scope: { indexes: ['Docs'] } },
      { name: 'k', scope: { indexes: ['-docs'] } },
      { name: 'k', scope: { indexes: ['d'.repeat(46)] } },
      { name: 'k', rate_limit_per_second: 0 },
    ];
    for (const body of bad) expect(() => parseCreateApiKeyRequest(body, now)).toThrow(InvalidArgumentError);
    expect(parseCreateApiKeyRequest({ name: 'a'.repeat(80) }, now).name).toHaveLength(80);
    expect(parseCreateApiKeyRequest({ name: 'k', scope: { indexes: ['d'.repeat(45), 'a-1'] } }, now).scope.indexes).toHaveLength(2);
  });

  it('API key update: null clears expiry and rate limit; empty update refused', () => {
    expect(parseUpdateApiKeyRequest({ expires_at: null, rate_limit_per_second: null }, now)).toEqual({ expiresAt: null, rateLimitPerSecond: null });
    expect(() => parseUpdateApiKeyRequest({}, now)).toThrow(InvalidArgumentError);
  });

  it('rotate, project, token, paging', () => {
    expect(parseRotateApiKeyRequest(undefined)).toEqual({ gracePeriodSeconds: 3600 });
    expect(parseRotateApiKeyRequest({ grace_period_seconds: 0 })).toEqual({ gracePeriodSeconds: 0 });
    expect(() => parseRotateApiKeyRequest({ grace_period_seconds: 31 * 86400 })).toThrow(InvalidArgumentError);
    expect(parseCreateProjectRequest({ name: 'p' })).toEqual({ name: 'p', maxPods: 0, forceEncryptionWithCmek: false });
    expect(parseTokenRequest({ grant_type: 'client_credentials', client_id: 'a', client_secret: 'b', audience: 'x' })).toEqual({ clientId: 'a', clientSecret: 'b' });
    expect(() => parseTokenRequest({ grant_type: 'password', client_id: 'a', client_secret: 'b' })).toThrow(InvalidArgumentError);
    const token = encodeAuditPaginationToken(42n);
    expect(parseAuditPageRequest({ limit: '10', pagination_token: token })).toEqual({ limit: 10, beforeId: 42n });
    expect(parseAuditPageRequest({})).toEqual({ limit: 50 });
    for (const query of [{ limit: '0' }, { limit: '101' }, { limit: 'x' }, { pagination_token: 'bm9wZQ' }]) {
      expect(() => parseAuditPageRequest(query)).toThrow(InvalidArgumentError);
    }
  });
});

describe('audit filters', () => {
  it('parses exact filters and an ISO 8601 range; the token is bound to the filters', () => {
    const query = { action: 'api_key.create', actor_id: 'sa-1', target_type: 'api_key', target_id: 'k', actor_type: 'service_account', from: '2026-12-01', to: '2026-12-05T10:00:00+02:00' };
    const page = parseAuditPageRequest(query);
    expect(page.filter).toEqual({
      action: 'api_key.create',
      actorId: 'sa-1',
      actorType: 'service_account',
      targetType: 'api_key',
      targetId: 'k',
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2026-12-05T08:00:00Z'),
    });
    const token = encodeAuditPaginationToken(7n, page.filter);
    expect(parseAuditPageRequest({ ...query, pagination_token: token })).toMatchObject({ beforeId: 7n });
    expect(() => parseAuditPageRequest({ ...query, action: 'api_key.revoke', pagination_token: token })).toThrow(/other filters/);
    expect(() => parseAuditPageRequest({ pagination_token: token })).toThrow(/other filters/);
    expect(() => parseAuditPageRequest({ action: 'x', pagination_token: encodeAuditPaginationToken(7n) })).toThrow(/other filters/);
    expect(parseAuditPageRequest({ action: '' })).toEqual({ limit: 50 });
  });

  it('400 for bad times, reversed ranges, repeated or unprintable values', () => {
    for (const query of [
      { from: 'yesterday' },
      { from: '2026-02-30' },
      { from: '2026-12-05T10:00:00' },
      { to: '2026-12-05T25:00:00Z' },
      { to: '1700000000' },
      { from: '2026-12-05', to: '2026-12-05' },
      { from: '2026-12-06', to: '2026-12-05' },
      { action: ['a', 'b'] },
      { target_id: 'has space' },
      { actor_id: 'x'.repeat(257) },
    ]) {
      expect(() => parseAuditPageRequest(query)).toThrow(InvalidArgumentError);
    }
  });
});

describe('admin names', () => {
  it('400 for a lone UTF-16 surrogate (Postgres cannot store it in the audit JSON: was a 500)', () => {
    expect(() => parseName('a\ud800b', 'name', 80)).toThrow(InvalidArgumentError);
    expect(() => parseName('\udc00', 'name', 80)).toThrow(InvalidArgumentError);
    expect(() => parseCreateProjectRequest(JSON.parse('{"name":"\\ud800"}'))).toThrow(InvalidArgumentError);
  });

  it('accepts well-formed text, astral characters included', () => {
    expect(parseName('café 🌲', 'name', 80)).toBe('café 🌲');
  });

  it('400 for scope entries with NUL or lone surrogates', () => {
    expect(() => parseScope({ indexes: ['a\u0000b'] })).toThrow(InvalidArgumentError);
    expect(() => parseScope({ namespaces: ['\ud800'] })).toThrow(InvalidArgumentError);
    expect(parseScope({ namespaces: [''] }).namespaces).toEqual(['']);
  });
});
