// The node registry's repository on real Postgres: registration is idempotent and race-free across replicas.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrismaService } from '../../src/database/prisma.service.js';
import { PrismaVectorStoreNodesRepository } from '../../src/indexes/vector-store-nodes.repository.js';

describe('vector-store nodes repository', () => {
  let prisma: PrismaService;
  let repository: PrismaVectorStoreNodesRepository;

  beforeAll(() => {
    prisma = new PrismaService({ config: {} as never, secrets: {} as never, databaseUrl: process.env.DATABASE_URL! });
    repository = new PrismaVectorStoreNodesRepository(prisma);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it('registers a URL once, even when replicas register it at the same moment', async () => {
    const url = `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}`;
    const nodes = await Promise.all(Array.from({ length: 8 }, () => repository.register(url)));
    expect(new Set(nodes.map((n) => n.id)).size).toBe(1);
    expect(nodes[0]).toMatchObject({ url, state: 'live', lastSeenAt: null });
    const seenAt = new Date();
    await repository.recordHealth(nodes[0]!.id, 'down', null);
    await repository.recordHealth(nodes[0]!.id, 'live', seenAt);
    const listed = (await repository.list()).find((n) => n.url === url)!;
    expect(listed.state).toBe('live');
    expect(listed.lastSeenAt?.getTime()).toBe(seenAt.getTime());
  });
});
