#!/usr/bin/env node
// conifer-admin: the admin API from a terminal. Logs in with a service account's client id and secret
// (flags or environment), then calls the same endpoints as any other client; prints JSON, or a table.
// No import from the gateway's server code: it talks HTTP only.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const USAGE = `Usage: conifer-admin [options] <command> [arguments]

Options:
  --url <url>              gateway URL (env CONIFER_ADMIN_URL; default http://127.0.0.1:8080)
  --client-id <id>         service account client id (env CONIFER_CLIENT_ID or PINECONE_CLIENT_ID)
  --client-secret <secret> service account client secret (env CONIFER_CLIENT_SECRET or PINECONE_CLIENT_SECRET)
  -o, --output json|table  output format (default: json)
  -h, --help               this text

Commands:
  login                                         print an access token
  organizations list
  projects list | get <id> | create <name> [--max-pods N]
  projects update <id> [--name N] [--max-pods N]
  projects delete <id> [--force]                 its keys go with it; --force also removes its indexes
  keys list <project-id> [--include-revoked]
  keys get <key-id>
  keys create <project-id> --name N [--roles R1,R2] [--indexes a,b] [--namespaces a,b]
                          [--rate-limit N] [--expires-in SECONDS | --expires-at TIME]
  keys update <key-id> [--name N] [--roles R1,R2] [--indexes a,b] [--namespaces a,b]
                      [--rate-limit N|none] [--expires-in SECONDS | --expires-at TIME | --no-expiry]
  keys revoke <key-id>
  keys rotate <key-id> [--grace SECONDS]
  service-accounts list | get <id> | create <name> | delete <id>
  audit [--limit N] [--all]                      newest first
        [--action A] [--actor-id ID] [--actor-type T] [--target-type T] [--target-id ID]
        [--from TIME] [--to TIME]                filters applied by the API (exact; TIME: ISO 8601)

The full key (keys create / rotate) and a new client secret (service-accounts create) are shown once.`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  fetch: typeof fetch;
}

class UsageError extends Error {}

const OPTIONS = {
  url: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  'max-pods': { type: 'string' },
  force: { type: 'boolean' },
  'include-revoked': { type: 'boolean' },
  roles: { type: 'string' },
  indexes: { type: 'string' },
  namespaces: { type: 'string' },
  'rate-limit': { type: 'string' },
  'expires-in': { type: 'string' },
  'expires-at': { type: 'string' },
  'no-expiry': { type: 'boolean' },
  grace: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  action: { type: 'string' },
  'actor-id': { type: 'string' },
  'actor-type': { type: 'string' },
  'target-type': { type: 'string' },
  'target-id': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function integer(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${flag} must be an integer`);
  return Number(value);
}

function list(value: string): string[] {
  return value === '' ? [] : value.split(',').map((entry) => entry.trim());
}

function need(args: string[], index: number, what: string): string {
  const value = args[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
}

class AdminClient {
  private token?: string;

  constructor(
    private readonly baseUrl: string,
    private readonly clientId: string | undefined,
    private readonly clientSecret: string | undefined,
    private readonly io: CliIo,
  ) {}

  async login(): Promise<string> {
    if (this.token) return this.token;
    if (!this.clientId || !this.clientSecret) {
      throw new UsageError('client credentials are required: --client-id/--client-secret or CONIFER_CLIENT_ID/CONIFER_CLIENT_SECRET');
    }
    const body = await this.send('POST', '/oauth/token', { grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret }, false);
    this.token = (body as { access_token: string }).access_token;
    return this.token;
  }

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    await this.login();
    return this.send(method, path, body, true);
  }

  private async send(method: string, path: string, body: unknown, authorized: boolean): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorized) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.io.fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (error) {
      throw new Error(`cannot reach ${this.baseUrl}: ${(error as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new Error(`${response.status} ${error?.code ?? ''} ${error?.message ?? text}`.replace(/\s+/g, ' ').trim());
    }
    return parsed;
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const TABLE_COLUMNS: Record<string, string[]> = {
  projects: ['id', 'name', 'max_pods', 'created_at'],
  keys: ['id', 'name', 'roles', 'status', 'last_four', 'expires_at', 'last_used_at'],
  'service-accounts': ['id', 'name', 'client_id', 'created_at'],
  audit: ['id', 'created_at', 'action', 'target_type', 'target_id', 'actor_id', 'client_address'],
  organizations: ['id', 'name', 'created_at'],
};

export function formatTable(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

function print(io: CliIo, output: string, group: string, result: unknown): void {
  if (result === undefined) return;
  const rows = (result as { data?: unknown }).data;
  if (output === 'table') {
    const columns = TABLE_COLUMNS[group];
    if (columns && Array.isArray(rows)) return io.out(formatTable(rows as Record<string, unknown>[], columns));
    if (columns && result && typeof result === 'object' && !Array.isArray(result)) {
      const record = ((result as { key?: unknown }).key ?? result) as Record<string, unknown>;
      const extra = (result as { value?: string }).value ?? (result as { client_secret?: string }).client_secret;
      io.out(formatTable([record], Object.keys(record).filter((k) => k !== 'client_secret')));
      if (extra) io.out(`\nSecret (shown once, store it now): ${extra}`);
      return;
    }
  }
  io.out(JSON.stringify(result, null, 2));
}

function keyBody(values: Values, forUpdate: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (values.name !== undefined) body.name = values.name;
  if (values.roles !== undefined) body.roles = list(values.roles);
  if (values.indexes !== undefined || values.namespaces !== undefined) {
    body.scope = {
      ...(values.indexes !== undefined ? { indexes: list(values.indexes) } : {}),
      ...(values.namespaces !== undefined ? { namespaces: list(values.namespaces) } : {}),
    };
  }
  if (values['rate-limit'] !== undefined) {
    body.rate_limit_per_second = forUpdate && values['rate-limit'] === 'none' ? null : integer(values['rate-limit'], '--rate-limit');
  }
  if (values['expires-in'] !== undefined) body.expires_in_seconds = integer(values['expires-in'], '--expires-in');
  if (values['expires-at'] !== undefined) body.expires_at = values['expires-at'];
  if (forUpdate && values['no-expiry']) body.expires_at = null;
  return body;
}

async function dispatch(client: AdminClient, group: string, args: string[], values: Values): Promise<unknown> {
  const action = args[0];
  const id = (what: string) => encodeURIComponent(need(args, 1, what));
  switch (`${group} ${action ?? ''}`.trim()) {
    case 'login':
      return { access_token: await client.login() };
    case 'organizations list':
      return client.request('GET', '/admin/organizations');
    case 'projects list':
      return client.request('GET', '/admin/projects');
    case 'projects get':
      return client.request('GET', `/admin/projects/${id('project id')}`);
    case 'projects create': {
      const body: Record<string, unknown> = { name: need(args, 1, 'project name') };
      if (values['max-pods'] !== undefined) body.max_pods = integer(values['max-pods'], '--max-pods');
      return client.request('POST', '/admin/projects', body);
    }
    case 'projects update': {
      const body: Record<string, unknown> = {};
      if (values.name !== undefined) body.name = values.name;
      if (values['max-pods'] !== undefined) body.max_pods = integer(values['max-pods'], '--max-pods');
      return client.request('PATCH', `/admin/projects/${id('project id')}`, body);
    }
    case 'projects delete':
      await client.request('DELETE', `/admin/projects/${id('project id')}${values.force ? '?force=true' : ''}`);
      return { deleted: args[1] };
    case 'keys list':
      return client.request('GET', `/admin/projects/${id('project id')}/api-keys${values['include-revoked'] ? '?include_revoked=true' : ''}`);
    case 'keys get':
      return client.request('GET', `/admin/api-keys/${id('key id')}`);
    case 'keys create':
      if (values.name === undefined) throw new UsageError('keys create needs --name');
      return client.request('POST', `/admin/projects/${id('project id')}/api-keys`, keyBody(values, false));
    case 'keys update':
      return client.request('PATCH', `/admin/api-keys/${id('key id')}`, keyBody(values, true));
    case 'keys revoke':
      await client.request('DELETE', `/admin/api-keys/${id('key id')}`);
      return { revoked: args[1] };
    case 'keys rotate':
      return client.request(
        'POST',
        `/admin/api-keys/${id('key id')}/rotate`,
        values.grace === undefined ? {} : { grace_period_seconds: integer(values.grace, '--grace') },
      );
    case 'service-accounts list':
      return client.request('GET', '/admin/service-accounts');
    case 'service-accounts get':
      return client.request('GET', `/admin/service-accounts/${id('service account id')}`);
    case 'service-accounts create':
      return client.request('POST', '/admin/service-accounts', { name: need(args, 1, 'service account name') });
    case 'service-accounts delete':
      await client.request('DELETE', `/admin/service-accounts/${id('service account id')}`);
      return { deleted: args[1] };
    case 'audit': {
      const limit = values.limit === undefined ? undefined : integer(values.limit, '--limit');
      const data: unknown[] = [];
      let token: string | undefined;
      do {
        const query = new URLSearchParams();
        if (limit !== undefined) query.set('limit', String(limit));
        for (const flag of ['action', 'actor-id', 'actor-type', 'target-type', 'target-id', 'from', 'to'] as const) {
          const value = values[flag];
          if (value !== undefined) query.set(flag.replace('-', '_'), value);
        }
        if (token) query.set('pagination_token', token);
        const page = (await client.request('GET', `/admin/audit-events${query.toString() ? `?${query}` : ''}`)) as {
          data: unknown[];
          pagination?: { next: string };
        };
        data.push(...page.data);
        token = values.all ? page.pagination?.next : undefined;
      } while (token);
      return { data };
    }
    default:
      throw new UsageError(`unknown command: ${[group, action].filter(Boolean).join(' ')}`);
  }
}

/** Runs one command; returns the exit code (0 done, 1 request failed, 2 usage error). */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }) as {
      values: Values;
      positionals: string[];
    });
  } catch (error) {
    io.err(`conifer-admin: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help || positionals.length === 0) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  const output = values.output ?? 'json';
  if (output !== 'json' && output !== 'table') {
    io.err('conifer-admin: --output must be json or table');
    return 2;
  }
  const baseUrl = (values.url ?? env.CONIFER_ADMIN_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const client = new AdminClient(
    baseUrl,
    values['client-id'] ?? env.CONIFER_CLIENT_ID ?? env.PINECONE_CLIENT_ID,
    values['client-secret'] ?? env.CONIFER_CLIENT_SECRET ?? env.PINECONE_CLIENT_SECRET,
    io,
  );
  const [group, ...rest] = positionals as [string, ...string[]];
  try {
    print(io, output, group, await dispatch(client, group, rest, values));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`conifer-admin: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`conifer-admin: ${(error as Error).message}`);
    return 1;
  }
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** The program: runs one command with the process's arguments and environment, sets the exit code. */
export async function cliMain(): Promise<void> {
  const io: CliIo = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    fetch: globalThis.fetch,
  };
  process.exitCode = await runCli(process.argv.slice(2), process.env, io);
}

if (isMain()) void cliMain();
