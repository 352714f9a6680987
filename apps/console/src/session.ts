// The admin session: the bearer token from POST /oauth/token lives in sessionStorage (this tab only, gone when
// it closes), never in localStorage or a cookie. Secrets shown once (new key values, client secrets) are never
// stored by the page. The short-lived session keys the console mints per project (for the control plane and the
// query playground) are kept in memory only; their ids are remembered in sessionStorage so that signing out
// can revoke them even after a reload.
const TOKEN = 'conifer.console.session';
const SESSION_KEYS = 'conifer.console.session-keys';

export interface Session {
  readonly token: string;
  readonly clientId: string;
  readonly expiresAt: number;
}

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(TOKEN);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    return session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(TOKEN, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN);
}

/** Session API keys by project: value in memory only. */
const sessionKeyValues = new Map<string, { id: string; value: string }>();

export function sessionKey(projectId: string): { id: string; value: string } | undefined {
  return sessionKeyValues.get(projectId);
}

export function rememberSessionKey(projectId: string, key: { id: string; value: string }): void {
  sessionKeyValues.set(projectId, key);
  const ids = sessionKeyIds();
  if (!ids.includes(key.id)) sessionStorage.setItem(SESSION_KEYS, JSON.stringify([...ids, key.id]));
}

export function sessionKeyIds(): string[] {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEYS) ?? '[]') as string[];
  } catch {
    return [];
  }
}

/** The token expired: the values go, the ids stay so that the next sign-out still revokes those keys. */
export function forgetSessionKeyValues(): void {
  sessionKeyValues.clear();
}

export function forgetSessionKeys(): void {
  sessionKeyValues.clear();
  sessionStorage.removeItem(SESSION_KEYS);
}
