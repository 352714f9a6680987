// Service-account credentials for the admin API's client-credentials grant.
import { randomBase62 } from './base62.js';

export interface MintedClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export function mintClientCredentials(): MintedClientCredentials {
  return { clientId: `sa-${randomBase62(20)}`, clientSecret: randomBase62(43) };
}
