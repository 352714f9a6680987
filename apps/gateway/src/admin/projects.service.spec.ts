// ProjectsService deletion rules with an in-memory repository.
import { describe, expect, it } from '@jest/globals';
import { FailedPreconditionError, NotFoundError, UnavailableError } from '@conifer/contracts';
import { pino } from 'pino';
import type { AdminContext } from '../admin-auth/admin-context.js';
import type { RevokedKey } from '../auth/api-keys.repository.js';
import { KeyEvents, type KeyChange } from '../auth/key-events.js';
import { ProjectIndexRemover } from '../tenants/project-index-remover.js';
import type { ProjectsRepository, ProjectUsage } from '../tenants/projects.repository.js';
import { ProjectsService } from './projects.service.js';

const ORG = '00000000-0000-4000-8000-00000000000a';
const PROJECT = '10000000-0000-4000-8000-00000000000a';
const context: AdminContext = { organizationId: ORG, actorId: 'sa', clientAddress: null };

function setup(usage: ProjectUsage, keys: RevokedKey[], remover?: ProjectIndexRemover) {
  const log: string[] = [];
  const state = { usage: { ...usage }, keys: [...keys], exists: true };
  const repository = {
    findInOrganization: async (org: string, id: string) => (org === ORG && id === PROJECT && state.exists ? { id, name: 'p' } : null),
    usage: async () => state.usage,
    revokeAllKeys: async () => {
      log.push('revoke-keys');
      const revoked = state.keys;
      state.keys = [];
      state.usage = { ...state.usage, liveKeys: 0 };
      return revoked;
    },
    delete: async () => {
      if (state.usage.indexes > 0) return { kind: 'in_use', usage: state.usage };
      log.push('delete');
      state.exists = false;
      const revokedKeys = state.keys;
      state.keys = [];
      return { kind: 'deleted', revokedKeys };
    },
  };
  class Events extends KeyEvents {
    async keyChanged(change: KeyChange) {
      log.push(`event:${change.keyId}`);
    }
    subscribe() {}
  }
  if (remover) {
    const original = remover.removeAllIndexes.bind(remover);
    remover.removeAllIndexes = async (id: string) => {
      log.push('remove-indexes');
      const n = await original(id);
      state.usage = { ...state.usage, indexes: 0 };
      return n;
    };
  }
  const service = new ProjectsService(repository as unknown as ProjectsRepository, new Events(), pino({ level: 'silent' }), remover);
  return { service, log };
}

class Remover extends ProjectIndexRemover {
  async removeAllIndexes(): Promise<number> {
    return 2;
  }
}

describe('ProjectsService.delete', () => {
  it('deletes an empty project', async () => {
    const { service, log } = setup({ indexes: 0, liveKeys: 0 }, []);
    await service.delete(context, PROJECT, false);
    expect(log).toEqual(['delete']);
  });

  it('412 with indexes unless forced; nothing done', async () => {
    for (const usage of [{ indexes: 1, liveKeys: 0 }, { indexes: 1, liveKeys: 1 }]) {
      const { service, log } = setup(usage, [{ id: 'k', keyId: 'kid' }], new Remover());
      await expect(service.delete(context, PROJECT, false)).rejects.toBeInstanceOf(FailedPreconditionError);
      expect(log).toEqual([]);
    }
  });

  it('no indexes but live keys: deletes the project and revokes its keys at once, as at Pinecone (was 412)', async () => {
    const { service, log } = setup({ indexes: 0, liveKeys: 2 }, [{ id: 'k1', keyId: 'kid1' }, { id: 'k2', keyId: 'kid2' }]);
    await service.delete(context, PROJECT, false);
    expect(log).toEqual(['delete', 'event:kid1', 'event:kid2']);
  });

  it('503 when forced with indexes but no index remover; nothing done', async () => {
    const { service, log } = setup({ indexes: 1, liveKeys: 1 }, [{ id: 'k', keyId: 'kid' }]);
    await expect(service.delete(context, PROJECT, true)).rejects.toBeInstanceOf(UnavailableError);
    expect(log).toEqual([]);
  });

  it('force: revoke keys and announce, then remove indexes, then delete', async () => {
    const { service, log } = setup({ indexes: 2, liveKeys: 2 }, [{ id: 'k1', keyId: 'kid1' }, { id: 'k2', keyId: 'kid2' }], new Remover());
    await service.delete(context, PROJECT, true);
    expect(log).toEqual(['revoke-keys', 'event:kid1', 'event:kid2', 'remove-indexes', 'delete']);
  });

  it('404 for a missing or non-UUID id', async () => {
    const { service } = setup({ indexes: 0, liveKeys: 0 }, []);
    await expect(service.delete(context, 'nope', false)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.delete({ ...context, organizationId: 'other' }, PROJECT, false)).rejects.toBeInstanceOf(NotFoundError);
  });
});
