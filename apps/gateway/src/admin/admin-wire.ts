// Admin API response bodies (Pinecone's snake_case shapes).
import type { AuditEvent } from '../audit/audit.repository.js';
import type { Organization } from '../tenants/organizations.repository.js';
import type { Project } from '../tenants/projects.repository.js';
import type { ServiceAccount } from '../tenants/service-accounts.repository.js';

export interface ProjectModel {
  id: string;
  name: string;
  max_pods: number;
  force_encryption_with_cmek: boolean;
  organization_id: string;
  created_at: string;
}

export function projectModel(project: Project): ProjectModel {
  return {
    id: project.id,
    name: project.name,
    max_pods: project.maxPods,
    force_encryption_with_cmek: project.forceEncryptionWithCmek,
    organization_id: project.organizationId,
    created_at: project.createdAt.toISOString(),
  };
}

export interface ServiceAccountModel {
  id: string;
  name: string;
  client_id: string;
  organization_id: string;
  created_at: string;
}

export function serviceAccountModel(account: ServiceAccount): ServiceAccountModel {
  return {
    id: account.id,
    name: account.name,
    client_id: account.clientId,
    organization_id: account.organizationId,
    created_at: account.createdAt.toISOString(),
  };
}

export function organizationModel(organization: Organization) {
  return { id: organization.id, name: organization.name, created_at: organization.createdAt.toISOString() };
}

export interface AuditEventModel {
  id: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  client_address: string | null;
  created_at: string;
  details: Record<string, unknown>;
}

export function auditEventModel(event: AuditEvent): AuditEventModel {
  return {
    id: event.id.toString(),
    actor_type: event.actorType,
    actor_id: event.actorId,
    action: event.action,
    target_type: event.targetType,
    target_id: event.targetId,
    client_address: event.clientAddress,
    created_at: event.createdAt.toISOString(),
    details: event.details,
  };
}
