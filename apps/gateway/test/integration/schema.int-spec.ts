// The hand-written SQL migrations must produce exactly the schema that prisma/schema.prisma describes:
// every model's table, every field's column (type, nullability, default presence), every unique and plain
// index, every foreign key with its actions. Then the generated client exercises every model.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyMigrations, MigrationError } from '@conifer/database';
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from '@conifer/test-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../src/generated/prisma/client.js';

const require = createRequire(import.meta.url);
const schemaPath = path.resolve(import.meta.dirname, '../../../../prisma/schema.prisma');

interface DmmfField {
  name: string;
  dbName: string | null;
  kind: 'scalar' | 'object' | 'enum';
  type: string;
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  nativeType: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  fields: { name: string }[];
}

function loadDmmf(): { models: DmmfModel[]; indexes: DmmfIndex[] } {
  const wasm = require('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string };
  const dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: readFileSync(schemaPath, 'utf8') })));
  return { models: dmmf.datamodel.models, indexes: dmmf.datamodel.indexes };
}

const PG_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Float: 'double precision',
};
const NATIVE_TYPES: Record<string, (args: string[]) => string> = {
  Uuid: () => 'uuid',
  Timestamptz: (args) => `timestamp(${args[0] ?? 6}) with time zone`,
};

function expectedType(field: DmmfField): string {
  const base = field.nativeType ? NATIVE_TYPES[field.nativeType[0]]!(field.nativeType[1]) : PG_TYPES[field.type]!;
  return field.isList ? `${base}[]` : base;
}

describe('database schema', () => {
  let database: TestDatabase;
  let client: pg.Client;
  const { models, indexes } = loadDmmf();
  const tableOf = (model: string) => {
    const found = models.find((m) => m.name === model)!;
    return found.dbName ?? found.name;
  };
  const columnOf = (model: string, field: string) => {
    const found = models.find((m) => m.name === model)!.fields.find((f) => f.name === field)!;
    return found.dbName ?? found.name;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('has exactly the tables of the Prisma models (plus _prisma_migrations)', async () => {
    const { rows } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    const expected = [...models.map((m) => m.dbName ?? m.name), '_prisma_migrations'].sort();
    expect(rows.map((r) => r.table_name)).toEqual(expected);
  });

  it('has every column with the type, nullability and default the schema gives', async () => {
    for (const model of models) {
      const table = model.dbName ?? model.name;
      const { rows } = await client.query<{ column_name: string; type: string; not_null: boolean; has_default: boolean }>(
        `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
                a.atthasdef AS has_default
           FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
        [`"${table}"`],
      );
      const actual = Object.fromEntries(rows.map((r) => [r.column_name, r]));
      const scalars = model.fields.filter((f) => f.kind !== 'object');
      expect(Object.keys(actual).sort()).toEqual(scalars.map((f) => f.dbName ?? f.name).sort());
      for (const field of scalars) {
        const column = actual[field.dbName ?? field.name]!;
        const where = `${table}.${field.dbName ?? field.name}`;
        expect(`${where}: ${column.type}`).toBe(`${where}: ${expectedType(field)}`);
        // Prisma leaves list columns nullable in Postgres.
        expect(`${where} not null: ${column.not_null}`).toBe(`${where} not null: ${field.isRequired && !field.isList}`);
        // @updatedAt fields carry a database default only when the schema also says @default.
        expect(`${where} default: ${column.has_default}`).toBe(`${where} default: ${field.hasDefaultValue}`);
      }
    }
  });

  it('has every primary key, unique and plain index the schema declares, and no others', async () => {
    const { rows } = await client.query<{ table: string; primary: boolean; unique: boolean; columns: string[] }>(
      `SELECT t.relname AS table, i.indisprimary AS primary, i.indisunique AS unique,
              array_agg(a.attname ORDER BY k.ord)::text[] AS columns
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE t.relname <> '_prisma_migrations'
        GROUP BY t.relname, i.indexrelid, i.indisprimary, i.indisunique`,
    );
    const describeIndex = (table: string, kind: string, columns: string[]) => `${table} ${kind} (${columns.join(', ')})`;
    const actual = rows.map((r) => describeIndex(r.table, r.primary ? 'id' : r.unique ? 'unique' : 'normal', r.columns)).sort();
    const expected = indexes
      .map((index) => describeIndex(tableOf(index.model), index.type, index.fields.map((f) => columnOf(index.model, f.name))))
      .sort();
    expect(actual).toEqual(expected);
  });

  it('has every foreign key with its referential actions', async () => {
    const { rows } = await client.query<{ table: string; columns: string[]; target: string; target_columns: string[]; on_delete: string }>(
      `SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS target,
              (SELECT array_agg(attname ORDER BY ord)::text[] FROM unnest(c.conkey) WITH ORDINALITY u(n, ord)
                 JOIN pg_attribute ON attrelid = c.conrelid AND attnum = u.n) AS columns,
              (SELECT array_agg(attname ORDER BY ord)::text[] FROM unnest(c.confkey) WITH ORDINALITY u(n, ord)
                 JOIN pg_attribute ON attrelid = c.confrelid AND attnum = u.n) AS target_columns,
              c.confdeltype AS on_delete
         FROM pg_constraint c WHERE c.contype = 'f'`,
    );
    const actions: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };
    const actual = rows
      .map((r) => `${r.table.replace(/"/g, '')}(${r.columns.join(',')}) -> ${r.target.replace(/"/g, '')}(${r.target_columns.join(',')}) ${actions[r.on_delete]}`)
      .sort();
    const expected = models
      .flatMap((model) =>
        model.fields
          .filter((f) => f.kind === 'object' && f.relationFromFields && f.relationFromFields.length > 0)
          .map(
            (f) =>
              `${tableOf(model.name)}(${f.relationFromFields!.map((name) => columnOf(model.name, name)).join(',')}) -> ` +
              `${tableOf(f.type)}(${f.relationToFields!.map((name) => columnOf(f.type, name)).join(',')}) ${f.relationOnDelete ?? (f.isRequired ? 'Restrict' : 'SetNull')}`,
          ),
      )
      .sort();
    expect(actual).toEqual(expected);
  });

  it('lets the generated client use every model', async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
    try {
      const organization = await prisma.organization.create({ data: { id: randomUUID(), name: 'acme' } });
      const project = await prisma.project.create({ data: { id: randomUUID(), organizationId: organization.id, name: 'search' } });
      await expect(
        prisma.project.create({ data: { id: randomUUID(), organizationId: organization.id, name: 'search' } }),
      ).rejects.toThrow();
      await prisma.serviceAccount.create({
        data: { id: randomUUID(), organizationId: organization.id, name: 'ci', clientId: 'sa-x', secretHash: 'h' },
      });
      const key = await prisma.apiKey.create({
        data: { id: randomUUID(), keyId: 'abc123def456', projectId: project.id, name: 'k', secretHash: 'h', lastFour: 'wxyz', roles: ['ProjectEditor'] },
      });
      expect(key.indexScope).toEqual([]);
      const successor = await prisma.apiKey.create({
        data: { id: randomUUID(), keyId: 'abc123def457', projectId: project.id, name: 'k2', secretHash: 'h', lastFour: 'abcd', roles: [], rotatedFromId: key.id },
      });
      expect(successor.rotatedFromId).toBe(key.id);
      const revocation = await prisma.keyRevocation.create({ data: { keyId: key.keyId } });
      expect(typeof revocation.seq).toBe('bigint');
      const node = await prisma.vectorStoreNode.create({ data: { id: randomUUID(), url: 'http://127.0.0.1:1' } });
      const index = await prisma.vectorIndex.create({
        data: { id: randomUUID(), projectId: project.id, name: 'docs', dimension: 8, metric: 'cosine', spec: { serverless: {} }, replicas: { create: [{ nodeId: node.id }] } },
        include: { replicas: true },
      });
      expect(index.replicas).toMatchObject([{ nodeId: node.id, state: 'active' }]);
      // One replica per (index, node).
      await expect(prisma.indexReplica.create({ data: { indexId: index.id, nodeId: node.id } })).rejects.toThrow();
      // A node holding a replica cannot be deleted by accident (ON DELETE RESTRICT).
      await expect(prisma.vectorStoreNode.delete({ where: { id: node.id } })).rejects.toThrow();
      // An index keeps its project from being deleted by accident (ON DELETE RESTRICT).
      await expect(prisma.project.delete({ where: { id: project.id } })).rejects.toThrow();
      const event = await prisma.auditEvent.create({
        data: { organizationId: organization.id, actorType: 'system', action: 'test', targetType: 'project', targetId: project.id },
      });
      expect(event.details).toEqual({});
      const usage = await prisma.apiKeyUsage.create({
        data: { apiKeyId: key.id, projectId: project.id, hour: new Date('2026-01-01T10:00:00Z'), reads: 2n },
      });
      expect(usage.writes).toBe(0n);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('records migrations as prisma migrate deploy does, and applies them once', async () => {
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations"',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await applyMigrations(database.url, MIGRATIONS_DIR)).toEqual([]);
  });

  it('turns each index\'s node into one replica of it (issue 17 migration)', async () => {
    const before = await createTestDatabase({ migrate: false });
    const directory = mkdtempSync(path.join(tmpdir(), 'conifer-migrations-'));
    cpSync(MIGRATIONS_DIR, directory, { recursive: true });
    const later = readdirSync(directory, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name >= '20261205210000').map((e) => e.name);
    const held = mkdtempSync(path.join(tmpdir(), 'conifer-migrations-held-'));
    for (const name of later) cpSync(path.join(directory, name), path.join(held, name), { recursive: true });
    for (const name of later) rmSync(path.join(directory, name), { recursive: true });
    const db = new pg.Client({ connectionString: before.url });
    try {
      await applyMigrations(before.url, directory);
      await db.connect();
      const [organization, project, node, index] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await db.query('INSERT INTO organizations (id, name) VALUES ($1, $2)', [organization, 'o']);
      await db.query('INSERT INTO projects (id, organization_id, name) VALUES ($1, $2, $3)', [project, organization, 'p']);
      await db.query('INSERT INTO vector_store_nodes (id, url) VALUES ($1, $2)', [node, 'http://127.0.0.1:2']);
      await db.query(`INSERT INTO indexes (id, project_id, name, metric, spec, node_id) VALUES ($1, $2, 'docs', 'cosine', '{}', $3)`, [index, project, node]);
      for (const name of later) cpSync(path.join(held, name), path.join(directory, name), { recursive: true });
      expect(await applyMigrations(before.url, directory)).toEqual(later.sort());
      const { rows } = await db.query('SELECT index_id, node_id, state FROM index_replicas');
      expect(rows).toEqual([{ index_id: index, node_id: node, state: 'active' }]);
    } finally {
      await db.end().catch(() => undefined);
      await before.drop();
    }
  });

  it('refuses to run when an applied migration was modified', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'conifer-migrations-'));
    cpSync(MIGRATIONS_DIR, directory, { recursive: true });
    const [firstMigration] = readdirSync(directory, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const first = path.join(directory, firstMigration!, 'migration.sql');
    writeFileSync(first, `${readFileSync(first, 'utf8')}\n-- edited\n`);
    await expect(applyMigrations(database.url, directory)).rejects.toBeInstanceOf(MigrationError);
  });
});
