import { describe, expect, it } from '@jest/globals';
import { signAdminToken, verifyAdminToken } from './admin-token.js';

const SECRET = 'x'.repeat(43);
const subject = { serviceAccountId: 'sa-1', organizationId: 'org-1', clientId: 'sa-abc' };

describe('admin tokens', () => {
  it('verifies a token it signed, with its claims', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const { token } = signAdminToken(SECRET, subject, 600, now);
    const claims = verifyAdminToken(SECRET, token, new Date(now.getTime() + 599_000));
    expect(claims).toMatchObject({ sub: 'sa-1', org: 'org-1', cid: 'sa-abc', iss: 'conifer' });
  });

  it('refuses an expired token', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const { token } = signAdminToken(SECRET, subject, 600, now);
    expect(verifyAdminToken(SECRET, token, new Date(now.getTime() + 600_000))).toBeNull();
  });

  it('refuses another secret, a tampered payload and garbage', () => {
    const { token } = signAdminToken(SECRET, subject, 600);
    expect(verifyAdminToken('y'.repeat(43), token)).toBeNull();
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), org: 'org-2' })).toString('base64url');
    expect(verifyAdminToken(SECRET, `${h}.${forged}.${s}`)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(verifyAdminToken(SECRET, `${none}.${p}.`)).toBeNull();
    for (const bad of ['', 'a.b', 'a.b.c', `${token}x`]) expect(verifyAdminToken(SECRET, bad)).toBeNull();
  });
});
