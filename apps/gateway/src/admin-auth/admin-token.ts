// Admin bearer tokens: compact JWS (HS256) signed with the configured token secret. Claims: iss "conifer",
// sub (service-account id), org (organization id), cid (client id), iat, exp, jti. Verification accepts only
// HS256, compares the MAC in constant time and checks expiry; the service account's state is checked by the
// bearer strategy on every request.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

const TOKEN_ISSUER = 'conifer';

export interface AdminTokenClaims {
  readonly sub: string;
  readonly org: string;
  readonly cid: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly iss: string;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function mac(secret: string, input: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

export function signAdminToken(
  secret: string,
  subject: { serviceAccountId: string; organizationId: string; clientId: string },
  ttlSeconds: number,
  now: Date = new Date(),
): { token: string; claims: AdminTokenClaims } {
  const iat = Math.floor(now.getTime() / 1000);
  const claims: AdminTokenClaims = {
    iss: TOKEN_ISSUER,
    sub: subject.serviceAccountId,
    org: subject.organizationId,
    cid: subject.clientId,
    iat,
    exp: iat + ttlSeconds,
    jti: randomUUID(),
  };
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { token: `${body}.${mac(secret, body).toString('base64url')}`, claims };
}

/** The token's claims, or null when it is malformed, not ours, tampered with or expired. No I/O. */
export function verifyAdminToken(secret: string, token: string, now: Date = new Date()): AdminTokenClaims | null {
  if (typeof token !== 'string' || token.length > 4096) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  if (header !== HEADER || !/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return null;
  const expected = mac(secret, `${header}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: AdminTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AdminTokenClaims;
  } catch {
    return null;
  }
  if (claims === null || typeof claims !== 'object') return null;
  if (claims.iss !== TOKEN_ISSUER || typeof claims.sub !== 'string' || typeof claims.org !== 'string') return null;
  if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(now.getTime() / 1000)) return null;
  return claims;
}
