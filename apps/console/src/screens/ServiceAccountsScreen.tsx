// Service accounts of the organization: create (the client secret is shown once), delete (its tokens end at once).
import { useState, type FormEvent } from 'react';
import { api, unwrap, type ServiceAccount } from '../api/client';
import { Confirm, Notice, SecretOnce, useLoad, when } from '../components/common';

export function ServiceAccountsScreen() {
  const accounts = useLoad(async () => unwrap(await api.GET('/admin/service-accounts')).data, []);
  const [secret, setSecret] = useState<{ label: string; value: string }>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [deleting, setDeleting] = useState<ServiceAccount>();

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const name = String(new FormData(formElement).get('name')).trim();
    setError(undefined);
    try {
      const created = unwrap(await api.POST('/admin/service-accounts', { body: { name } }));
      formElement.reset();
      setNotice(`Service account ${created.name} created with client ID ${created.client_id}.`);
      setSecret({ label: `Client secret of ${created.name}`, value: created.client_secret });
      accounts.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const remove = async () => {
    const account = deleting;
    setDeleting(undefined);
    if (!account) return;
    try {
      unwrap(await api.DELETE('/admin/service-accounts/{id}', { params: { path: { id: account.id } } }));
      setNotice(`Service account ${account.name} deleted.`);
      accounts.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <h1>Service accounts</h1>
      {secret && <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(undefined)} />}
      {notice && <Notice>{notice}</Notice>}
      {(error ?? accounts.error) && <Notice kind="error">{error ?? accounts.error}</Notice>}
      <form className="row" onSubmit={(e) => void create(e)} aria-label="Create service account">
        <label>
          New service account name
          <input name="name" required maxLength={256} />
        </label>
        <button type="submit">Create service account</button>
      </form>
      <table>
        <caption className="muted">Service accounts of this organization</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Client ID</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {accounts.data?.map((account) => (
            <tr key={account.id}>
              <td>{account.name}</td>
              <td>
                <code>{account.client_id}</code>
              </td>
              <td>{when(account.created_at)}</td>
              <td>
                <button type="button" className="secondary" onClick={() => setDeleting(account)} aria-label={`Delete service account ${account.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Confirm
        open={deleting !== undefined}
        title={`Delete service account ${deleting?.name ?? ''}?`}
        confirmLabel="Delete service account"
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(undefined)}
      >
        <p>Its tokens stop working at once.</p>
      </Confirm>
    </>
  );
}
