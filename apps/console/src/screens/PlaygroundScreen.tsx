// Query playground: pick an index and namespace, query by id or by a pasted vector, with a validated metadata
// filter; results with scores and metadata. Uses an API key the user pastes (kept in memory only) or the
// session's short-lived key.
import { useState, type FormEvent } from 'react';
import { api, dataPlane, unwrap } from '../api/client';
import { Notice, useLoad } from '../components/common';
import { parseFilter } from '../filter';
import { ensureSessionKey } from '../sessionKeys';

interface Match {
  id: string;
  score?: number;
  metadata?: Record<string, unknown>;
}

export function PlaygroundScreen({ projectId }: { projectId: string }) {
  const indexes = useLoad(async () => {
    const apiKey = await ensureSessionKey(projectId);
    return unwrap(await api.GET('/indexes', { headers: { 'Api-Key': apiKey } })).indexes;
  }, [projectId]);
  const [pastedKey, setPastedKey] = useState('');
  const [mode, setMode] = useState<'id' | 'vector'>('vector');
  const [filterText, setFilterText] = useState('');
  const [matches, setMatches] = useState<Match[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const filterCheck = parseFilter(filterText);

  const run = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(undefined);
    setMatches(undefined);
    if (filterCheck.error) {
      setError(filterCheck.error);
      return;
    }
    const index = indexes.data?.find((i) => i.name === form.get('index'));
    if (!index) {
      setError('Pick an index');
      return;
    }
    const body: Record<string, unknown> = {
      topK: Number(form.get('top_k') || 10),
      namespace: String(form.get('namespace') ?? ''),
      includeMetadata: true,
      ...(filterCheck.filter ? { filter: filterCheck.filter } : {}),
    };
    if (mode === 'id') {
      body.id = String(form.get('query_id')).trim();
    } else {
      try {
        const vector = JSON.parse(String(form.get('vector'))) as unknown;
        if (!Array.isArray(vector) || vector.length === 0 || !vector.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new Error();
        body.vector = vector;
      } catch {
        setError('The vector must be a JSON array of numbers, e.g. [0.1, 0.2, 0.3]');
        return;
      }
    }
    setBusy(true);
    try {
      const apiKey = pastedKey.trim() || (await ensureSessionKey(projectId));
      const answer = await dataPlane<{ matches: Match[] }>(index.host, '/query', apiKey, body);
      setMatches(answer.matches);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Query playground</h1>
      {indexes.error && <Notice kind="error">{indexes.error}</Notice>}
      <form onSubmit={(e) => void run(e)} aria-label="Query">
        <label>
          API key (optional; empty: this session's read-only key)
          <input type="password" autoComplete="off" value={pastedKey} onChange={(e) => setPastedKey(e.target.value)} />
        </label>
        <div className="row">
          <label htmlFor="playground-index">
            Index
            <select id="playground-index" name="index" required>
              {indexes.data?.map((index) => (
                <option key={index.name} value={index.name}>
                  {index.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Namespace (empty: default)
            <input name="namespace" />
          </label>
          <label>
            Top K
            <input name="top_k" type="number" min="1" max="10000" defaultValue="10" required />
          </label>
        </div>
        <fieldset>
          <legend>Query by</legend>
          <label>
            <input type="radio" name="mode" value="vector" checked={mode === 'vector'} onChange={() => setMode('vector')} /> a vector
          </label>
          <label>
            <input type="radio" name="mode" value="id" checked={mode === 'id'} onChange={() => setMode('id')} /> the id of a stored vector
          </label>
        </fieldset>
        {mode === 'vector' ? (
          <label>
            Vector (JSON array)
            <textarea name="vector" rows={2} placeholder="[0.1, 0.2, 0.3]" required />
          </label>
        ) : (
          <label>
            Vector id
            <input name="query_id" required />
          </label>
        )}
        <label>
          Metadata filter (JSON, optional)
          <textarea
            name="filter"
            rows={3}
            value={filterText}
            onChange={(e) => setFilterText(e.target.value)}
            placeholder='{"genre": {"$eq": "drama"}}'
            aria-invalid={filterCheck.error ? true : filterText.trim() ? false : undefined}
            aria-describedby="filter-help"
          />
          <small id="filter-help">{filterCheck.error ?? 'Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or.'}</small>
        </label>
        <button type="submit" aria-busy={busy} disabled={busy}>
          Run query
        </button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {matches && (
        <table aria-label="Results">
          <caption className="muted">{matches.length} matches</caption>
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Score</th>
              <th scope="col">Metadata</th>
            </tr>
          </thead>
          <tbody>
            {matches.map((match) => (
              <tr key={match.id}>
                <td data-testid="match-id">{match.id}</td>
                <td>{match.score?.toFixed(6)}</td>
                <td>
                  <pre>{match.metadata ? JSON.stringify(match.metadata) : ''}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
