// The audit log, newest first, page by page (the API's pagination token), filtered by action, target type or
// actor within the loaded pages.
import { useState } from 'react';
import { api, unwrap, type AuditEvent } from '../api/client';
import { Notice, useLoad, when } from '../components/common';

export function AuditScreen() {
  const [limit, setLimit] = useState(25);
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const token = tokens.at(-1);
  const page = useLoad(
    async () => unwrap(await api.GET('/admin/audit-events', { params: { query: { limit, ...(token ? { pagination_token: token } : {}) } } })),
    [limit, token],
  );
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [actor, setActor] = useState('');
  const events = (page.data?.data ?? []).filter(
    (e: AuditEvent) => e.action.includes(action.trim()) && (!target || e.target_type === target) && (e.actor_id ?? '').includes(actor.trim()),
  );
  const targets = [...new Set((page.data?.data ?? []).map((e) => e.target_type))].sort();

  return (
    <>
      <h1>Audit log</h1>
      {page.error && <Notice kind="error">{page.error}</Notice>}
      <div className="row" role="search" aria-label="Filter audit events">
        <label>
          Action contains
          <input value={action} onChange={(e) => setAction(e.target.value)} />
        </label>
        <label>
          Target type
          <select value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">any</option>
            {targets.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Actor ID contains
          <input value={actor} onChange={(e) => setActor(e.target.value)} />
        </label>
        <label>
          Per page
          <select
            value={limit}
            onChange={(e) => {
              setLimit(Number(e.target.value));
              setTokens([undefined]);
            }}
          >
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      <table>
        <caption className="muted">
          Page {tokens.length}: {events.length} of {page.data?.data.length ?? 0} events shown
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Actor</th>
            <th scope="col">From</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td>{when(event.created_at)}</td>
              <td data-testid="audit-action">{event.action}</td>
              <td>
                {event.target_type} <code>{event.target_id ?? ''}</code>
              </td>
              <td>
                {event.actor_type} <code>{event.actor_id ?? ''}</code>
              </td>
              <td>{event.client_address ?? '—'}</td>
              <td>
                <pre>{Object.keys(event.details ?? {}).length ? JSON.stringify(event.details) : ''}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="secondary" disabled={tokens.length === 1} onClick={() => setTokens([undefined])}>
          First page
        </button>
        <button type="button" className="secondary" disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page.data?.pagination?.next} onClick={() => setTokens([...tokens, page.data?.pagination?.next])}>
          Next page
        </button>
      </div>
    </>
  );
}
