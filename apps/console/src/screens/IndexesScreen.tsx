// Indexes of a project (through the control plane, with the session's API key): create, describe, configure tags
// and deletion protection, delete; vector counts per namespace from the data plane's describe_index_stats.
import { useState, type FormEvent } from 'react';
import { api, dataPlane, unwrap, type IndexModel } from '../api/client';
import { Confirm, Notice, useLoad } from '../components/common';
import { ensureSessionKey } from '../sessionKeys';

interface Stats {
  namespaces?: Record<string, { vectorCount: number }>;
  totalVectorCount?: number;
  dimension?: number;
}

export function IndexesScreen({ projectId }: { projectId: string }) {
  const indexes = useLoad(async () => {
    const apiKey = await ensureSessionKey(projectId);
    return unwrap(await api.GET('/indexes', { headers: { 'Api-Key': apiKey } })).indexes;
  }, [projectId]);
  const [selected, setSelected] = useState<string>();
  const described = useLoad(async () => {
    if (!selected) return undefined;
    const apiKey = await ensureSessionKey(projectId);
    const model = unwrap(await api.GET('/indexes/{name}', { params: { path: { name: selected } }, headers: { 'Api-Key': apiKey } }));
    const stats = model.status.ready ? await dataPlane<Stats>(model.host, '/describe_index_stats', apiKey, {}) : undefined;
    return { model, stats };
  }, [projectId, selected]);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [deleting, setDeleting] = useState<IndexModel>();

  const act = async (action: (apiKey: string) => Promise<string>) => {
    setError(undefined);
    try {
      setNotice(await action(await ensureSessionKey(projectId)));
      indexes.reload();
      described.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const create = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const name = String(form.get('name')).trim();
    const vectorType = String(form.get('vector_type')) as 'dense' | 'sparse';
    void act(async (apiKey) => {
      unwrap(
        await api.POST('/indexes', {
          headers: { 'Api-Key': apiKey },
          body: {
            name,
            ...(vectorType === 'dense' ? { dimension: Number(form.get('dimension')) } : {}),
            metric: vectorType === 'sparse' ? 'dotproduct' : (String(form.get('metric')) as 'cosine'),
            vector_type: vectorType,
            spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
            deletion_protection: form.get('deletion_protection') ? 'enabled' : 'disabled',
          },
        }),
      );
      formElement.reset();
      setSelected(name);
      return `Index ${name} created.`;
    });
  };

  const configure = (event: FormEvent<HTMLFormElement>, model: IndexModel) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    let tags: Record<string, string>;
    try {
      tags = JSON.parse(String(form.get('tags') || '{}')) as Record<string, string>;
      if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new Error();
    } catch {
      setError('Tags must be a JSON object of strings, e.g. {"team":"search"}');
      return;
    }
    void act(async (apiKey) => {
      unwrap(
        await api.PATCH('/indexes/{name}', {
          params: { path: { name: model.name } },
          headers: { 'Api-Key': apiKey },
          body: { deletion_protection: form.get('deletion_protection') ? 'enabled' : 'disabled', tags },
        }),
      );
      return `Index ${model.name} configured.`;
    });
  };

  const remove = () => {
    const model = deleting;
    setDeleting(undefined);
    if (!model) return;
    void act(async (apiKey) => {
      unwrap(await api.DELETE('/indexes/{name}', { params: { path: { name: model.name } }, headers: { 'Api-Key': apiKey } }));
      setSelected(undefined);
      return `Index ${model.name} deleted.`;
    });
  };

  const model = described.data?.model;
  return (
    <>
      <h1>Indexes</h1>
      <p className="muted">Managed through the control plane with a short-lived key this session minted.</p>
      {notice && <Notice>{notice}</Notice>}
      {(error ?? indexes.error) && <Notice kind="error">{error ?? indexes.error}</Notice>}
      <details>
        <summary role="button">Create an index</summary>
        <form onSubmit={create} aria-label="Create an index">
          <div className="row">
            <label>
              Index name
              <input name="name" required pattern="[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?" title="lowercase letters, digits and '-', 1-45 characters" />
            </label>
            <label>
              Vector type
              <select name="vector_type" defaultValue="dense">
                <option value="dense">dense</option>
                <option value="sparse">sparse</option>
              </select>
            </label>
            <label>
              Dimension (dense)
              <input name="dimension" type="number" min="1" max="20000" defaultValue="3" />
            </label>
            <label>
              Metric
              <select name="metric" defaultValue="cosine">
                <option value="cosine">cosine</option>
                <option value="euclidean">euclidean</option>
                <option value="dotproduct">dotproduct</option>
              </select>
            </label>
          </div>
          <label>
            <input type="checkbox" name="deletion_protection" /> Deletion protection
          </label>
          <button type="submit">Create index</button>
        </form>
      </details>
      <table>
        <caption className="muted">Indexes of this project</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Dimension</th>
            <th scope="col">Metric</th>
            <th scope="col">State</th>
            <th scope="col">Deletion protection</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {indexes.data?.map((index) => (
            <tr key={index.name}>
              <td>{index.name}</td>
              <td>{index.dimension ?? '—'}</td>
              <td>{index.metric}</td>
              <td>{index.status.state}</td>
              <td>{index.deletion_protection ?? 'disabled'}</td>
              <td className="actions">
                <button type="button" className="secondary" onClick={() => {
                    setSelected(index.name);
                    described.reload();
                  }} aria-label={`Describe ${index.name}`}>
                  Describe
                </button>
                <button type="button" className="secondary" onClick={() => setDeleting(index)} aria-label={`Delete index ${index.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {model && (
        <article aria-label={`Index ${model.name}`}>
          <h2>{model.name}</h2>
          <p>
            Host: <code>{model.host}</code>
          </p>
          <p>
            {model.vector_type ?? 'dense'}, {model.dimension ? `dimension ${model.dimension}, ` : ''}
            {model.metric}; {described.data?.stats?.totalVectorCount ?? 0} vectors
          </p>
          <table>
            <caption className="muted">Vectors per namespace</caption>
            <thead>
              <tr>
                <th scope="col">Namespace</th>
                <th scope="col">Vectors</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(described.data?.stats?.namespaces ?? {}).map(([name, ns]) => (
                <tr key={name}>
                  <td>{name === '' ? '(default)' : name}</td>
                  <td>{ns.vectorCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <form onSubmit={(e) => configure(e, model)} aria-label={`Configure ${model.name}`} key={`${model.name}-${model.deletion_protection}-${JSON.stringify(model.tags)}`}>
            <label>
              Tags (JSON object)
              <input name="tags" defaultValue={JSON.stringify(model.tags ?? {})} />
            </label>
            <label>
              <input type="checkbox" name="deletion_protection" defaultChecked={model.deletion_protection === 'enabled'} /> Deletion protection
            </label>
            <button type="submit">Save configuration</button>
          </form>
        </article>
      )}
      <Confirm
        open={deleting !== undefined}
        title={`Delete index ${deleting?.name ?? ''}?`}
        confirmLabel="Delete index"
        onConfirm={remove}
        onCancel={() => setDeleting(undefined)}
      >
        <p>Every vector in it is deleted. An index with deletion protection refuses (turn it off first).</p>
      </Confirm>
    </>
  );
}
