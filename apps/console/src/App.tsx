// The console shell: sign-in with service-account credentials, then hash-routed screens. The admin token is
// kept in sessionStorage; when it expires (or the API answers 401) the user is sent back to sign-in with a message.
import { useCallback, useEffect, useState } from 'react';
import { api, setBearer, unwrap } from './api/client';
import { Notice } from './components/common';
import { AuditScreen } from './screens/AuditScreen';
import { IndexesScreen } from './screens/IndexesScreen';
import { KeysScreen } from './screens/KeysScreen';
import { PlaygroundScreen } from './screens/PlaygroundScreen';
import { ProjectsScreen } from './screens/ProjectsScreen';
import { ServiceAccountsScreen } from './screens/ServiceAccountsScreen';
import { SignIn } from './screens/SignIn';
import { clearSession, forgetSessionKeys, forgetSessionKeyValues, loadSession, saveSession, sessionKeyIds, type Session } from './session';

function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash || '#/projects');
  useEffect(() => {
    const update = () => setHash(window.location.hash || '#/projects');
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [message, setMessage] = useState<string>();
  const hash = useHash();

  const expire = useCallback((why: string) => {
    clearSession();
    forgetSessionKeyValues();
    setBearer(null);
    setSession(null);
    setMessage(why);
  }, []);

  // Set before the screens render: their first requests run in effects that fire before this component's.
  if (session) setBearer(session.token, () => expire('Your session has expired. Sign in again.'));

  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => expire('Your session has expired. Sign in again.'), Math.max(0, session.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [session, expire]);

  const signIn = async (clientId: string, clientSecret: string) => {
    const token = unwrap(await api.POST('/oauth/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } }));
    const next = { token: token.access_token, clientId, expiresAt: Date.now() + token.expires_in * 1000 };
    saveSession(next);
    setBearer(next.token, () => expire('Your session has expired. Sign in again.'));
    setMessage(undefined);
    setSession(next);
    if (!window.location.hash) window.location.hash = '#/projects';
  };

  const signOut = async () => {
    // Revoke the short-lived keys this session minted, then forget the token.
    await Promise.all(
      sessionKeyIds().map((id) => api.DELETE('/admin/api-keys/{apiKeyId}', { params: { path: { apiKeyId: id } } }).catch(() => undefined)),
    );
    forgetSessionKeys();
    expire('You have signed out.');
  };

  if (!session) {
    return (
      <main className="signin">
        {message && <Notice>{message}</Notice>}
        <SignIn onSignIn={signIn} />
      </main>
    );
  }

  const parts = hash.replace(/^#\/?/, '').split('/');
  const projectId = parts[0] === 'projects' && parts[1] ? decodeURIComponent(parts[1]) : undefined;
  const section = projectId ? (parts[2] ?? 'keys') : parts[0] || 'projects';
  const link = (href: string, label: string, current: boolean) => (
    <li>
      <a href={href} aria-current={current ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );

  let screen;
  if (projectId && section === 'keys') screen = <KeysScreen projectId={projectId} />;
  else if (projectId && section === 'indexes') screen = <IndexesScreen projectId={projectId} />;
  else if (projectId && section === 'playground') screen = <PlaygroundScreen projectId={projectId} />;
  else if (section === 'service-accounts') screen = <ServiceAccountsScreen />;
  else if (section === 'audit') screen = <AuditScreen />;
  else screen = <ProjectsScreen />;

  return (
    <div className="shell">
      <nav className="side" aria-label="Main">
        <p>
          <strong>Conifer</strong>
        </p>
        <ul>
          {link('#/projects', 'Projects', section === 'projects' && !projectId)}
          {projectId && (
            <>
              {link(`#/projects/${projectId}/keys`, 'API keys', section === 'keys')}
              {link(`#/projects/${projectId}/indexes`, 'Indexes', section === 'indexes')}
              {link(`#/projects/${projectId}/playground`, 'Query playground', section === 'playground')}
            </>
          )}
          {link('#/service-accounts', 'Service accounts', section === 'service-accounts')}
          {link('#/audit', 'Audit log', section === 'audit')}
        </ul>
        <p className="muted">Signed in as {session.clientId}</p>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </nav>
      <main>{screen}</main>
    </div>
  );
}
