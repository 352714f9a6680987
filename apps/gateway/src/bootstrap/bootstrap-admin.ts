// First start: an organization, a "default" project and a bootstrap service account, so a fresh install
// can be administered at once. With CONIFER_BOOTSTRAP_CLIENT_ID/SECRET set the account is created or
// brought up to date idempotently (never re-enabled once deleted); otherwise credentials are generated once and printed once.
import type { INestApplication } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import { hashSecret, mintClientCredentials } from '@conifer/keys';
import type { Logger } from 'pino';
import { SECRETS } from '../config/runtime.js';
import { BootstrapRepository } from '../tenants/bootstrap.repository.js';

const BOOTSTRAP_ORGANIZATION_NAME = 'default';
const BOOTSTRAP_PROJECT_NAME = 'default';

export interface BootstrapResult {
  readonly created: boolean;
  /** The account was deleted: it stays deleted (nothing is re-enabled). */
  readonly deleted?: boolean;
  readonly organizationId: string;
  readonly projectId?: string;
  readonly clientId: string;
  /** Only when generated now: shown once, never stored. */
  readonly clientSecret?: string;
}

export async function ensureBootstrapAdmin(app: INestApplication, config: ConiferConfig, logger: Logger): Promise<BootstrapResult> {
  const repository = app.get(BootstrapRepository);
  const secrets = app.get<ResolvedSecrets>(SECRETS);
  const configuredId = config.gateway.bootstrapClientId;
  const configuredSecret = config.gateway.bootstrapClientSecret;
  const credentials =
    configuredId && configuredSecret ? { clientId: configuredId, clientSecret: configuredSecret } : mintClientCredentials();
  const secretHash = hashSecret(secrets.keyPepper, credentials.clientId, credentials.clientSecret);

  const outcome = await repository.ensure({
    organizationName: BOOTSTRAP_ORGANIZATION_NAME,
    projectName: BOOTSTRAP_PROJECT_NAME,
    configuredClientId: configuredId,
    configuredSecretHash: configuredId && configuredSecret ? secretHash : undefined,
    newClientId: credentials.clientId,
    newSecretHash: secretHash,
  });
  const result: BootstrapResult = {
    ...outcome,
    clientSecret: outcome.created && !configuredId ? credentials.clientSecret : undefined,
  };

  if (result.deleted) {
    logger.warn(
      { clientId: result.clientId, organizationId: result.organizationId },
      'the bootstrap service account was deleted and stays deleted; administer with another service account',
    );
  } else if (result.created && result.clientSecret) {
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
    `  Operator console: ${publicUrl}/console/ (sign in with these credentials)`,
    '',
    `  Mint a first API key for the "${BOOTSTRAP_PROJECT_NAME}" project (${result.projectId}):`,
    '',
    `    TOKEN=$(curl -s ${publicUrl}/oauth/token -H 'content-type: application/json' -d '${tokenBody}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `    curl -s ${publicUrl}/admin/projects/${result.projectId}/api-keys -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"first-key","roles":["ProjectEditor"]}'`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
