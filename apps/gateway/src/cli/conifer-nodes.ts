#!/usr/bin/env node
// conifer-nodes: the vector-store nodes of the catalog, from a terminal on a machine that reaches Postgres
// (DATABASE_URL, as the gateways use). Lists nodes with their replica counts, and marks a node for draining:
// placement skips it at once, and the gateways' repair moves each of its replicas to another node (the new
// replica catches up from the shared log, then the draining one is dropped). Draining needs the JetStream log
// (CONIFER_NATS_URL on the store nodes): an index on a node's local log has its only copy there.
// `node apps/gateway/dist/cli/conifer-nodes.js drain http://vector-store-2:8081`
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const USAGE = `Usage: conifer-nodes <command>   (DATABASE_URL: the catalog's Postgres)

Commands:
  list              every node: url, state, draining, replicas it holds (moving ones: "leaving")
  drain <url>       no new replicas on the node; repair moves its replicas to other nodes
  undrain <url>     the node takes replicas again (replicas already moved stay where they are)`;

export interface NodesIo {
  out(text: string): void;
  err(text: string): void;
}

interface NodeRow {
  url: string;
  state: string;
  draining: boolean;
  last_seen_at: Date | null;
  replicas: string;
  leaving: string;
}

export async function runNodesCli(args: readonly string[], env: NodeJS.ProcessEnv, io: NodesIo): Promise<number> {
  const [command, url, ...rest] = args;
  const usage = (message: string) => {
    io.err(`conifer-nodes: ${message}\n\n${USAGE}`);
    return 2;
  };
  if (command === undefined || command === '-h' || command === '--help') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!['list', 'drain', 'undrain'].includes(command)) return usage(`unknown command "${command}"`);
  if (command !== 'list' && url === undefined) return usage(`${command} needs the node's URL`);
  if (rest.length > 0 || (command === 'list' && url !== undefined)) return usage('too many arguments');
  if (!env.DATABASE_URL) return usage('DATABASE_URL is not set');
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  try {
    await client.connect();
    if (command !== 'list') {
      const normalized = url!.replace(/\/+$/, '');
      const updated = await client.query('UPDATE vector_store_nodes SET draining = $2 WHERE url = $1', [normalized, command === 'drain']);
      if (updated.rowCount === 0) {
        io.err(`conifer-nodes: no node with URL ${normalized} (see: conifer-nodes list)`);
        return 1;
      }
    }
    const { rows } = await client.query<NodeRow>(
      `SELECT n.url, n.state, n.draining, n.last_seen_at,
              count(r.index_id)::text AS replicas, count(r.index_id) FILTER (WHERE r.state = 'leaving')::text AS leaving
         FROM vector_store_nodes n LEFT JOIN index_replicas r ON r.node_id = n.id
        GROUP BY n.id ORDER BY n.created_at`,
    );
    const shown = command === 'list' ? rows : rows.filter((row) => row.url === url!.replace(/\/+$/, ''));
    io.out(
      JSON.stringify(
        shown.map((row) => ({
          url: row.url,
          state: row.state,
          draining: row.draining,
          lastSeenAt: row.last_seen_at?.toISOString() ?? null,
          replicas: Number(row.replicas),
          leaving: Number(row.leaving),
        })),
        null,
        2,
      ),
    );
    return 0;
  } catch (error) {
    io.err(`conifer-nodes: ${(error as Error).message}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  void runNodesCli(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => (process.exitCode = code));
}
