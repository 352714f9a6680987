// The audit log, newest first, page by page. Filters (exact action, actor, target type and id, a time range) are
// sent to the API, which filters in the database; paging follows the API's pagination token, which is only valid
// with the filters it was issued for, so applying other filters starts again at the first page.
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import { Notice, useLoad, when } from '../components/common';

/** The actions the gateway records, offered as suggestions (any exact action may be typed). */
const KNOWN_ACTIONS = [
  'api_key.create',
  'api_key.revoke',
  'api_key.rotate',
  'api_key.update',
  'oauth.token',
  'oauth.token_failed',
  'organization.update',
  'project.create',
  'project.delete',
  'project.update',
  'service_account.bootstrap',
  'service_account.bootstrap_secret_changed',
  'service_account.create',
  'service_account.delete',
];
const TARGET_TYPES = ['api_key', 'organization', 'project', 'service_account'];

interface Filters {
  action: string;
  actor_id: string;
  target_type: string;
  target_id: string;
  /** `datetime-local` values, in the browser's time zone. */
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { action: '', actor_id: '', target_type: '', target_id: '', from: '', to: '' };

/** The query parameters for the API: empty fields left out, local times sent as ISO 8601 in UTC. */
function toQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  for (const name of ['action', 'actor_id', 'target_type', 'target_id'] as const) {
    const value = filters[name].trim();
    if (value) query[name] = value;
  }
  for (const name of ['from', 'to'] as const) {
    if (!filters[name]) continue;
    const at = new Date(filters[name]);
    query[name] = Number.isNaN(at.getTime()) ? filters[name] : at.toISOString();
  }
  return query;
}

export function AuditScreen() {
  const [limit, setLimit] = useState(25);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const token = tokens.at(-1);
  const query = toQuery(applied);
  const filtered = Object.keys(query).length > 0;
  // The answer is kept with the request it answers: after a change of filters or page, nothing of the previous
  // answer is shown as if it matched.
  const key = JSON.stringify([limit, token ?? null, query]);
  const page = useLoad(
    async () => ({
      key,
      result: unwrap(await api.GET('/admin/audit-events', { params: { query: { limit, ...query, ...(token ? { pagination_token: token } : {}) } } })),
    }),
    [key],
  );
  const current = page.data?.key === key ? page.data.result : undefined;
  const loading = !current && !page.error;
  const events = current?.data ?? [];
  const next = current?.pagination?.next;

  const apply = (filters: Filters) => {
    setApplied(filters);
    setTokens([undefined]);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply(draft);
  };
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
  });

  return (
    <>
      <h1>Audit log</h1>
      {page.error && <Notice kind="error">{page.error}</Notice>}
      <form aria-label="Filter audit events" onSubmit={submit}>
        <div className="row">
          <label>
            Action
            <input list="audit-actions" placeholder="any" {...field('action')} />
            <datalist id="audit-actions">
              {KNOWN_ACTIONS.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </label>
          <label>
            Actor ID
            <input placeholder="any" {...field('actor_id')} />
          </label>
          <label>
            Target type
            <select {...field('target_type')}>
              <option value="">any</option>
              {TARGET_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label>
            Target ID
            <input placeholder="any" {...field('target_id')} />
          </label>
        </div>
        <div className="row">
          <label>
            From
            <input type="datetime-local" step="1" {...field('from')} />
          </label>
          <label>
            To (before)
            <input type="datetime-local" step="1" {...field('to')} />
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
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            className="secondary"
            disabled={!filtered && draft === NO_FILTERS}
            onClick={() => {
              setDraft(NO_FILTERS);
              apply(NO_FILTERS);
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      <table>
        <caption className="muted">
          Page {tokens.length}: {events.length} {filtered ? 'matching ' : ''}
          {events.length === 1 ? 'event' : 'events'}
          {loading ? ' (loading…)' : ''}
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
                {event.target_type} <code data-testid="audit-target-id">{event.target_id ?? ''}</code>
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
        <button type="button" disabled={!next} onClick={() => setTokens([...tokens, next])}>
          Next page
        </button>
      </div>
    </>
  );
}
