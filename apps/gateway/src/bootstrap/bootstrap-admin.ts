// First start: an organization, a "default" project and a bootstrap service account, so a fresh install
// can be administered at once. With CONIFER_BOOTSTRAP_CLIENT_ID/SECRET set the account is created or
// brought up to date idempotently; otherwise credentials are generated once and printed once.
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import { hashSecret, mintClientCredentials } from '@conifer/keys';
import type { Logger } from 'pino';
import { SECRETS } from '../config/runtime.js';
import { PrismaService } from '../database/prisma.service.js';

export const BOOTSTRAP_ORGANIZATION_NAME = 'default';
export const BOOTSTRAP_PROJECT_NAME = 'default';

export interface BootstrapResult {
  readonly created: boolean;
  readonly organizationId: string;
  readonly projectId?: string;
  readonly clientId: string;
  /** Only when generated now: shown once, never stored. */
  readonly clientSecret?: string;
}

export async function ensureBootstrapAdmin(app: INestApplication, config: ConiferConfig, logger: Logger): Promise<BootstrapResult> {
  const prisma = app.get(PrismaService);
  const secrets = app.get<ResolvedSecrets>(SECRETS);
  const configuredId = config.gateway.bootstrapClientId;
  const configuredSecret = config.gateway.bootstrapClientSecret;

  const result = await prisma.$transaction(async (tx) => {
    // Serialise concurrent first starts of several replicas.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707370)`;
    const existing = configuredId
      ? await tx.serviceAccount.findUnique({ where: { clientId: configuredId } })
      : await tx.serviceAccount.findFirst({ where: { isBootstrap: true, revokedAt: null }, orderBy: { createdAt: 'asc' } });
    if (existing) {
      if (configuredId && configuredSecret) {
        const secretHash = hashSecret(secrets.keyPepper, configuredId, configuredSecret);
        if (secretHash !== existing.secretHash || existing.revokedAt) {
          await tx.serviceAccount.update({ where: { id: existing.id }, data: { secretHash, revokedAt: null } });
        }
      }
      return { created: false, organizationId: existing.organizationId, clientId: existing.clientId } satisfies BootstrapResult;
    }
    const organization =
      (await tx.organization.findFirst({ where: { name: BOOTSTRAP_ORGANIZATION_NAME }, orderBy: { createdAt: 'asc' } })) ??
      (await tx.organization.create({ data: { id: randomUUID(), name: BOOTSTRAP_ORGANIZATION_NAME } }));
    const project =
      (await tx.project.findFirst({ where: { organizationId: organization.id, name: BOOTSTRAP_PROJECT_NAME } })) ??
      (await tx.project.create({ data: { id: randomUUID(), organizationId: organization.id, name: BOOTSTRAP_PROJECT_NAME } }));
    const credentials =
      configuredId && configuredSecret ? { clientId: configuredId, clientSecret: configuredSecret } : mintClientCredentials();
    const account = await tx.serviceAccount.create({
      data: {
        id: randomUUID(),
        organizationId: organization.id,
        name: 'bootstrap',
        clientId: credentials.clientId,
        secretHash: hashSecret(secrets.keyPepper, credentials.clientId, credentials.clientSecret),
        isBootstrap: true,
      },
    });
    await tx.auditEvent.create({
      data: {
        organizationId: organization.id,
        actorType: 'system',
        action: 'service_account.bootstrap',
        targetType: 'service_account',
        targetId: account.id,
        details: { client_id: account.clientId, project_id: project.id },
      },
    });
    return {
      created: true,
      organizationId: organization.id,
      projectId: project.id,
      clientId: credentials.clientId,
      clientSecret: configuredId ? undefined : credentials.clientSecret,
    } satisfies BootstrapResult;
  });

  if (result.created && result.clientSecret) {
    printFirstStartBanner(config.gateway.publicUrl, result);
  } else {
    logger.info({ clientId: result.clientId, organizationId: result.organizationId }, 'bootstrap service account ready');
  }
  return result;
}

/** Printed to the terminal once, on first start: the only time the generated secret is shown. */
function printFirstStartBanner(publicUrl: string, result: BootstrapResult): void {
  const tokenBody = JSON.stringify({
    grant_type: 'client_credentials',
    client_id: result.clientId,
    client_secret: result.clientSecret,
  });
  const lines = [
    '',
    '  Conifer: first start. Bootstrap admin credentials (shown once, store them now):',
    `    client_id:     ${result.clientId}`,
    `    client_secret: ${result.clientSecret}`,
    '',
    `  Mint a first API key for the "${BOOTSTRAP_PROJECT_NAME}" project (${result.projectId}):`,
    '',
    `    TOKEN=$(curl -s ${publicUrl}/oauth/token -H 'content-type: application/json' -d '${tokenBody}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `    curl -s ${publicUrl}/admin/projects/${result.projectId}/api-keys -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"first-key","roles":["ProjectEditor"]}'`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
