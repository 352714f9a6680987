// Projects of the caller's organization. Deletion, as at Pinecone: refused (412 FAILED_PRECONDITION) while the
// project has indexes; without indexes, the project and its API keys go at once (the keys are revoked in the
// same transaction and announced to every replica). With force, its keys are revoked first (they stop working
// at once), then its indexes are removed through the control plane, then the project row goes (with its key
// rows; key_revocations and audit rows stay).
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  FailedPreconditionError,
  NotFoundError,
  UnavailableError,
  type CreateProjectRequest,
  type UpdateProjectRequest,
} from '@conifer/contracts';
import type { Logger } from 'pino';
import type { AdminContext } from '../admin-auth/admin-context.js';
import { auditOf } from '../audit/audit.js';
import type { RevokedKey } from '../auth/api-keys.repository.js';
import { KeyEvents } from '../auth/key-events.js';
import { LOGGER } from '../common/logger.js';
import { isUuid } from '../common/request-params.js';
import { ProjectIndexRemover } from '../tenants/project-index-remover.js';
import { ProjectsRepository, type Project } from '../tenants/projects.repository.js';

@Injectable()
export class ProjectsService {
  constructor(
    @Inject(ProjectsRepository) private readonly projects: ProjectsRepository,
    @Inject(KeyEvents) private readonly keyEvents: KeyEvents,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(ProjectIndexRemover) private readonly indexRemover?: ProjectIndexRemover | null,
  ) {}

  async create(context: AdminContext, request: CreateProjectRequest): Promise<Project> {
    const id = randomUUID();
    return this.projects.create(
      { id, organizationId: context.organizationId, ...request },
      auditOf(context, 'project.create', 'project', id, { name: request.name }),
    );
  }

  list(context: AdminContext): Promise<Project[]> {
    return this.projects.list(context.organizationId);
  }

  /** The caller's project, or 404 (another organization's project is indistinguishable from a missing one). */
  async get(context: AdminContext, id: string): Promise<Project> {
    const project = isUuid(id) ? await this.projects.findInOrganization(context.organizationId, id) : null;
    if (!project) throw new NotFoundError(`Project ${id} not found`);
    return project;
  }

  async update(context: AdminContext, id: string, changes: UpdateProjectRequest): Promise<Project> {
    const updated = isUuid(id)
      ? await this.projects.update(context.organizationId, id, changes, auditOf(context, 'project.update', 'project', id, { ...changes }))
      : null;
    if (!updated) throw new NotFoundError(`Project ${id} not found`);
    return updated;
  }

  async delete(context: AdminContext, id: string, force: boolean): Promise<void> {
    const project = await this.get(context, id);
    const now = new Date();
    const auditForKey = (key: RevokedKey) => auditOf(context, 'api_key.revoke', 'api_key', key.id, { reason: 'project.delete', project_id: id });
    const usage = await this.projects.usage(id, now);
    if (!force && usage.indexes > 0) throw this.inUse(usage);
    if (usage.indexes > 0 && !this.indexRemover) {
      throw new UnavailableError('The project has indexes and index removal is not available on this gateway; try again later');
    }
    let removedIndexes = 0;
    if (force) {
      const revoked = await this.projects.revokeAllKeys(context.organizationId, id, now, auditForKey);
      if (revoked === null) throw new NotFoundError(`Project ${id} not found`);
      await this.announce(revoked);
      if (usage.indexes > 0) removedIndexes = await this.indexRemover!.removeAllIndexes(id);
    }
    const outcome = await this.projects.delete(
      context.organizationId,
      id,
      new Date(),
      auditOf(context, 'project.delete', 'project', id, { name: project.name, force, removed_indexes: removedIndexes }),
      auditForKey,
    );
    if (outcome.kind === 'not_found') throw new NotFoundError(`Project ${id} not found`);
    if (outcome.kind === 'in_use') throw this.inUse(outcome.usage);
    await this.announce(outcome.revokedKeys);
  }

  private inUse(usage: { indexes: number }): FailedPreconditionError {
    return new FailedPreconditionError(
      `Project still has ${usage.indexes} index(es); delete them first, ` +
        'or delete with ?force=true to revoke its keys and remove its indexes',
    );
  }

  /** After commit: every replica evicts the revoked keys (the key_revocations rows are the durable backstop). */
  private async announce(keys: readonly RevokedKey[]): Promise<void> {
    for (const key of keys) {
      await this.keyEvents.keyChanged({ keyId: key.keyId, reason: 'revoked' }).catch((error: unknown) => {
        this.logger.warn({ err: (error as Error).message, keyId: key.keyId }, 'key change broadcast failed; replicas rely on polling');
      });
    }
  }
}
