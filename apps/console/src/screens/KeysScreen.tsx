// API keys of a project: mint (roles, index/namespace scope, expiry, rate limit), rotate with a grace period,
// revoke with confirmation; status, last use, creator; usage charts for the project and for each key.
import { useState, type FormEvent } from 'react';
import { api, ROLES, unwrap, type ApiKey, type Role } from '../api/client';
import { Confirm, Notice, SecretOnce, useLoad, when } from '../components/common';
import { UsageChart } from '../components/UsageChart';

const list = (value: FormDataEntryValue | null) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function KeysScreen({ projectId }: { projectId: string }) {
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const project = useLoad(async () => unwrap(await api.GET('/admin/projects/{projectId}', { params: { path: { projectId } } })), [projectId]);
  const keys = useLoad(
    async () => unwrap(await api.GET('/admin/projects/{projectId}/api-keys', { params: { path: { projectId }, query: { include_revoked: includeRevoked } } })).data,
    [projectId, includeRevoked],
  );
  const usage = useLoad(async () => unwrap(await api.GET('/admin/projects/{projectId}/usage', { params: { path: { projectId } } })), [projectId]);
  const [selected, setSelected] = useState<ApiKey>();
  const keyUsage = useLoad(
    async () => (selected ? unwrap(await api.GET('/admin/api-keys/{apiKeyId}/usage', { params: { path: { apiKeyId: selected.id } } })) : undefined),
    [selected?.id],
  );
  const [secret, setSecret] = useState<{ label: string; value: string }>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [revoking, setRevoking] = useState<ApiKey>();
  const [rotating, setRotating] = useState<ApiKey>();

  const refresh = () => {
    keys.reload();
    usage.reload();
    keyUsage.reload();
  };

  const mint = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const roles = form.getAll('roles').map(String) as Role[];
    const expiresHours = Number(form.get('expires_hours') || 0);
    const rate = Number(form.get('rate_limit') || 0);
    const indexes = list(form.get('index_scope'));
    const namespaces = list(form.get('namespace_scope'));
    setError(undefined);
    try {
      const minted = unwrap(
        await api.POST('/admin/projects/{projectId}/api-keys', {
          params: { path: { projectId } },
          body: {
            name: String(form.get('name')).trim(),
            ...(roles.length ? { roles } : {}),
            ...(expiresHours > 0 ? { expires_in_seconds: Math.round(expiresHours * 3600) } : {}),
            ...(rate > 0 ? { rate_limit_per_second: rate } : {}),
            ...(indexes.length || namespaces.length ? { scope: { indexes, namespaces } } : {}),
          },
        }),
      );
      formElement.reset();
      setSecret({ label: `New API key "${minted.key.name}"`, value: minted.value });
      setNotice(undefined);
      refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const rotate = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!rotating) return;
    const grace = Number(new FormData(event.currentTarget).get('grace_minutes') || 0);
    const key = rotating;
    setRotating(undefined);
    setError(undefined);
    try {
      const rotated = unwrap(
        await api.POST('/admin/api-keys/{apiKeyId}/rotate', { params: { path: { apiKeyId: key.id } }, body: { grace_period_seconds: Math.round(grace * 60) } }),
      );
      setSecret({ label: `Successor of "${key.name}"`, value: rotated.value });
      setNotice(`The old key works until ${when(rotated.previous_key.expires_at)}.`);
      refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    const key = revoking;
    setRevoking(undefined);
    setError(undefined);
    try {
      unwrap(await api.DELETE('/admin/api-keys/{apiKeyId}', { params: { path: { apiKeyId: key.id } } }));
      setNotice(`Key "${key.name}" revoked: it no longer works.`);
      refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <h1>API keys{project.data ? ` of ${project.data.name}` : ''}</h1>
      {secret && <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(undefined)} />}
      {notice && <Notice>{notice}</Notice>}
      {(error ?? keys.error) && <Notice kind="error">{error ?? keys.error}</Notice>}
      {usage.data && <UsageChart title="Project usage, last 24 hours" buckets={usage.data.data} total={usage.data.total} />}
      <button type="button" className="secondary" onClick={refresh}>
        Refresh
      </button>
      <details>
        <summary role="button">Mint a key</summary>
        <form onSubmit={(e) => void mint(e)} aria-label="Mint a key">
          <label>
            Key name
            <input name="name" required maxLength={256} />
          </label>
          <fieldset>
            <legend>Roles (none: ProjectEditor)</legend>
            {ROLES.map((role) => (
              <label key={role}>
                <input type="checkbox" name="roles" value={role} /> {role}
              </label>
            ))}
          </fieldset>
          <div className="row">
            <label>
              Index scope (comma-separated; empty: all)
              <input name="index_scope" />
            </label>
            <label>
              Namespace scope (comma-separated; empty: all)
              <input name="namespace_scope" />
            </label>
          </div>
          <div className="row">
            <label>
              Expires in hours (empty: never)
              <input name="expires_hours" type="number" min="0" step="any" />
            </label>
            <label>
              Rate limit, requests per second (empty: none)
              <input name="rate_limit" type="number" min="0" step="1" />
            </label>
          </div>
          <button type="submit">Mint key</button>
        </form>
      </details>
      <label>
        <input type="checkbox" role="switch" checked={includeRevoked} onChange={(e) => setIncludeRevoked(e.target.checked)} /> Show revoked keys
      </label>
      <div className="overflow-auto">
        <table>
          <caption className="muted">Keys of this project (the value of a key is never shown again)</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Roles</th>
              <th scope="col">Scope</th>
              <th scope="col">Status</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">Created by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.map((key) => (
              <tr key={key.id} data-key-id={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>…{key.last_four}</code>
                </td>
                <td>{key.roles.join(', ')}</td>
                <td>
                  {key.scope.indexes.length ? `indexes: ${key.scope.indexes.join(', ')}` : 'all indexes'}
                  {key.scope.namespaces.length ? `; namespaces: ${key.scope.namespaces.join(', ')}` : ''}
                  {key.rate_limit_per_second ? `; ${key.rate_limit_per_second}/s` : ''}
                </td>
                <td className={`status-${key.status}`}>{key.status}</td>
                <td>{when(key.last_used_at)}</td>
                <td>{when(key.expires_at)}</td>
                <td>{key.created_by ?? '—'}</td>
                <td className="actions">
                  <button type="button" className="secondary" onClick={() => setSelected(key)} aria-label={`Usage of ${key.name}`}>
                    Usage
                  </button>
                  {key.status === 'active' && (
                    <>
                      <button type="button" className="secondary" onClick={() => setRotating(key)} aria-label={`Rotate ${key.name}`}>
                        Rotate
                      </button>
                      <button type="button" className="secondary" onClick={() => setRevoking(key)} aria-label={`Revoke ${key.name}`}>
                        Revoke
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {selected && keyUsage.data && (
        <UsageChart title={`Usage of "${selected.name}", last 24 hours`} buckets={keyUsage.data.data} total={keyUsage.data.total} />
      )}
      <Confirm
        open={revoking !== undefined}
        title={`Revoke "${revoking?.name ?? ''}"?`}
        confirmLabel="Revoke key"
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(undefined)}
      >
        <p>Every gateway replica refuses the key within a second. This cannot be undone.</p>
      </Confirm>
      <dialog open={rotating !== undefined} aria-labelledby="rotate-title">
        <article>
          <h2 id="rotate-title">Rotate "{rotating?.name}"</h2>
          <form onSubmit={(e) => void rotate(e)}>
            <label>
              Grace period in minutes (the old key keeps working this long)
              <input name="grace_minutes" type="number" min="0" step="any" defaultValue="60" required />
            </label>
            <div className="actions">
              <button type="button" className="secondary" onClick={() => setRotating(undefined)}>
                Cancel
              </button>
              <button type="submit">Rotate key</button>
            </div>
          </form>
        </article>
      </dialog>
    </>
  );
}
