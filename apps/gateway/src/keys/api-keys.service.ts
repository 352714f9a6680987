// API keys of the caller's organization's projects: mint (the full key is returned once), list, describe,
// update, revoke, rotate. Changes that affect validation are recorded in key_revocations inside their
// transaction (by the repository) and announced through KeyEvents after commit, never before.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedSecrets } from '@conifer/config';
import {
  FailedPreconditionError,
  NotFoundError,
  type CreateApiKeyRequest,
  type RotateApiKeyRequest,
  type UpdateApiKeyRequest,
} from '@conifer/contracts';
import { hashSecret, mintApiKey } from '@conifer/keys';
import type { Logger } from 'pino';
import type { AdminContext } from '../admin-auth/admin-context.js';
import { auditOf } from '../audit/audit.js';
import { ApiKeysRepository, type ApiKeyChanges, type NewApiKey, type StoredApiKey } from '../auth/api-keys.repository.js';
import { KeyEvents, type KeyChange } from '../auth/key-events.js';
import { LOGGER } from '../common/logger.js';
import { isUuid } from '../common/request-params.js';
import { SECRETS } from '../config/runtime.js';
import { ProjectsRepository } from '../tenants/projects.repository.js';
import { KeyStatus, keyStatus } from './key-status.js';

export interface MintedKey {
  readonly key: StoredApiKey;
  /** The full key: shown once, never stored. */
  readonly value: string;
}

function auditDetails(key: { name: string; roles: readonly string[]; expiresAt: Date | null; indexScope: readonly string[]; namespaceScope: readonly string[]; rateLimitPerSecond: number | null }) {
  return {
    name: key.name,
    roles: [...key.roles],
    expires_at: key.expiresAt?.toISOString() ?? null,
    scope: { indexes: [...key.indexScope], namespaces: [...key.namespaceScope] },
    rate_limit_per_second: key.rateLimitPerSecond,
  };
}

@Injectable()
export class ApiKeysService {
  constructor(
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(ProjectsRepository) private readonly projects: ProjectsRepository,
    @Inject(KeyEvents) private readonly keyEvents: KeyEvents,
    @Inject(SECRETS) private readonly secrets: ResolvedSecrets,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async mint(context: AdminContext, projectId: string, request: CreateApiKeyRequest): Promise<MintedKey> {
    await this.requireProject(context, projectId);
    const { key: newKey, value } = this.newKey({
      projectId,
      name: request.name,
      roles: request.roles,
      indexScope: request.scope.indexes,
      namespaceScope: request.scope.namespaces,
      rateLimitPerSecond: request.rateLimitPerSecond,
      expiresAt: request.expiresAt,
      createdBy: context.actorId,
      rotatedFromId: null,
    });
    const key = await this.keys.create(newKey, auditOf(context, 'api_key.create', 'api_key', newKey.id, { project_id: projectId, ...auditDetails(newKey) }));
    return { key, value };
  }

  async list(context: AdminContext, projectId: string, includeRevoked = false): Promise<StoredApiKey[]> {
    await this.requireProject(context, projectId);
    return this.keys.listForProject(projectId, includeRevoked);
  }

  /** The caller's key, revoked ones included (shown with status "revoked"); 404 for others' and missing ones. */
  async get(context: AdminContext, id: string): Promise<StoredApiKey> {
    const key = isUuid(id) ? await this.keys.findInOrganization(context.organizationId, id) : null;
    if (!key) throw new NotFoundError(`API key ${id} not found`);
    return key;
  }

  async update(context: AdminContext, id: string, request: UpdateApiKeyRequest): Promise<StoredApiKey> {
    const current = await this.get(context, id);
    if (current.revokedAt !== null) throw new FailedPreconditionError(`API key ${id} is revoked and cannot be changed`);
    const changes: ApiKeyChanges = {
      ...(request.name !== undefined ? { name: request.name } : {}),
      ...(request.roles !== undefined ? { roles: request.roles } : {}),
      ...(request.scope !== undefined ? { indexScope: request.scope.indexes, namespaceScope: request.scope.namespaces } : {}),
      ...(request.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: request.rateLimitPerSecond } : {}),
      ...(request.expiresAt !== undefined ? { expiresAt: request.expiresAt } : {}),
    };
    // Only the name does not matter to validation.
    const affectsValidation = Object.keys(changes).some((field) => field !== 'name');
    const now = new Date();
    const expiresAt = changes.expiresAt;
    const check = expiresAt === undefined ? undefined : (key: StoredApiKey, rotated: boolean) => checkExpiryChange(key, rotated, expiresAt, now);
    const updated = await this.keys.update(id, changes, affectsValidation, now, auditOf(context, 'api_key.update', 'api_key', id, this.describeChanges(changes)), check);
    if (!updated) throw new FailedPreconditionError(`API key ${id} is revoked and cannot be changed`);
    if (affectsValidation) await this.announce({ keyId: updated.keyId, reason: 'updated' });
    return updated;
  }

  /** DELETE: the key stops validating at once; its row stays (revokedAt set) for the audit trail. */
  async revoke(context: AdminContext, id: string): Promise<void> {
    const current = await this.get(context, id);
    if (current.revokedAt !== null) throw new NotFoundError(`API key ${id} not found`);
    const revoked = await this.keys.revoke(id, new Date(), auditOf(context, 'api_key.revoke', 'api_key', id, { project_id: current.projectId, name: current.name }));
    if (!revoked) throw new NotFoundError(`API key ${id} not found`);
    await this.announce({ keyId: revoked.keyId, reason: 'revoked' });
  }

  /**
   * A successor with the same project, name, roles, scope, rate limit and expiry; the old key keeps working for
   * the grace period (its expiry becomes now + grace, or stays earlier if it already was).
   */
  async rotate(context: AdminContext, id: string, request: RotateApiKeyRequest): Promise<MintedKey & { previous: StoredApiKey }> {
    const current = await this.get(context, id);
    const now = new Date();
    const status = keyStatus(current, now);
    if (status !== KeyStatus.VALID) {
      throw new FailedPreconditionError(`API key ${id} is ${status === KeyStatus.REVOKED ? 'revoked' : 'expired'} and cannot be rotated`);
    }
    const graceEnd = new Date(now.getTime() + request.gracePeriodSeconds * 1000);
    const oldExpiresAt = current.expiresAt !== null && current.expiresAt < graceEnd ? current.expiresAt : graceEnd;
    const { key: successor, value } = this.newKey({
      projectId: current.projectId,
      name: current.name,
      roles: current.roles,
      indexScope: current.indexScope,
      namespaceScope: current.namespaceScope,
      rateLimitPerSecond: current.rateLimitPerSecond,
      expiresAt: current.expiresAt,
      createdBy: context.actorId,
      rotatedFromId: current.id,
    });
    const result = await this.keys.rotate(
      id,
      successor,
      oldExpiresAt,
      now,
      auditOf(context, 'api_key.rotate', 'api_key', id, {
        successor_id: successor.id,
        grace_period_seconds: request.gracePeriodSeconds,
        previous_expires_at: oldExpiresAt.toISOString(),
      }),
    );
    if (!result) throw new FailedPreconditionError(`API key ${id} is no longer valid and cannot be rotated`);
    await this.announce({ keyId: result.previous.keyId, reason: 'rotated' });
    return { key: result.successor, value, previous: result.previous };
  }

  private async requireProject(context: AdminContext, projectId: string): Promise<void> {
    const project = isUuid(projectId) ? await this.projects.findInOrganization(context.organizationId, projectId) : null;
    if (!project) throw new NotFoundError(`Project ${projectId} not found`);
  }

  private newKey(fields: Omit<NewApiKey, 'id' | 'keyId' | 'secretHash' | 'lastFour'>): { key: NewApiKey; value: string } {
    const minted = mintApiKey();
    return {
      key: {
        ...fields,
        id: randomUUID(),
        keyId: minted.keyId,
        secretHash: hashSecret(this.secrets.keyPepper, minted.keyId, minted.secret),
        lastFour: minted.lastFour,
      },
      value: minted.value,
    };
  }

  private describeChanges(changes: ApiKeyChanges): Record<string, unknown> {
    return {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.roles !== undefined ? { roles: [...changes.roles] } : {}),
      ...(changes.indexScope !== undefined ? { scope: { indexes: [...changes.indexScope], namespaces: [...(changes.namespaceScope ?? [])] } } : {}),
      ...(changes.rateLimitPerSecond !== undefined ? { rate_limit_per_second: changes.rateLimitPerSecond } : {}),
      ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt?.toISOString() ?? null } : {}),
    };
  }

  /** After commit only. A failed broadcast is logged: replicas still see the key_revocations row when polling. */
  private async announce(change: KeyChange): Promise<void> {
    await this.keyEvents.keyChanged(change).catch((error: unknown) => {
      this.logger.warn({ err: (error as Error).message, keyId: change.keyId }, 'key change broadcast failed; replicas rely on polling');
    });
  }
}

/**
 * An expiry may always be brought forward, never pushed back (or cleared) on a key that has expired (it stays
 * expired: mint a new key) or on a rotated predecessor (its end is final; the successor carries the rights).
 */
function checkExpiryChange(key: StoredApiKey, rotated: boolean, expiresAt: Date | null, now: Date): void {
  const later = key.expiresAt !== null && (expiresAt === null || expiresAt.getTime() > key.expiresAt.getTime());
  if (!later) return;
  if (keyStatus(key, now) === KeyStatus.EXPIRED) {
    throw new FailedPreconditionError(`API key ${key.id} has expired and cannot be revived; mint a new key`);
  }
  if (rotated) {
    throw new FailedPreconditionError(`API key ${key.id} was rotated: its expiry cannot be extended; use its successor`);
  }
}
