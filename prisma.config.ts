// Prisma CLI configuration (Prisma 7 reads the datasource URL from here, not from schema.prisma).
// Conifer applies its SQL migrations itself; this file lets `prisma migrate deploy` and `prisma studio`
// work for users who have Prisma's schema-engine binary.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
