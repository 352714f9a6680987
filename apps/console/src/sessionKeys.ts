// The control plane and the data plane take API keys, not admin tokens. For the indexes screen and the query
// playground the console mints one short-lived key per project and session (ProjectViewer to read indexes and
// query, ControlPlaneEditor to create, configure and delete indexes; expires in an hour), keeps its value in
// memory only, and revokes it on sign-out.
import { api, unwrap } from './api/client';
import { rememberSessionKey, sessionKey } from './session';

const pending = new Map<string, Promise<string>>();

export async function ensureSessionKey(projectId: string): Promise<string> {
  const known = sessionKey(projectId);
  if (known) return known.value;
  let minting = pending.get(projectId);
  if (!minting) {
    minting = (async () => {
      const minted = unwrap(
        await api.POST('/admin/projects/{projectId}/api-keys', {
          params: { path: { projectId } },
          body: { name: 'console session', roles: ['ProjectViewer', 'ControlPlaneEditor'], expires_in_seconds: 3600 },
        }),
      );
      rememberSessionKey(projectId, { id: minted.key.id, value: minted.value });
      return minted.value;
    })().finally(() => pending.delete(projectId));
    pending.set(projectId, minting);
  }
  return minting;
}
