// The transaction handle repositories pass to each other's write helpers, so that a change and the rows that
// must go with it (audit, key revocations) commit together.
import type { Prisma } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;
