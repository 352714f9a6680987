import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from './common/logger.js';
import { ConfigModule } from './config/config.module.js';
import type { GatewayRuntime } from './config/runtime.js';
import { DatabaseModule } from './database/database.module.js';
import { AuthModule } from './auth/auth.module.js';
import { HealthModule } from './health/health.module.js';
import { IndexesModule } from './indexes/indexes.module.js';
import { ProxyModule } from './proxy/proxy.module.js';
import { AdminModule } from './admin/admin.module.js';
import { KeysModule } from './keys/keys.module.js';
import { RedisModule } from './redis/redis.module.js';
import { UsageModule } from './usage/usage.module.js';

@Module({})
export class AppModule {
  static forRoot(runtime: GatewayRuntime, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ConfigModule.forRoot(runtime),
        DatabaseModule,
        RedisModule,
        HealthModule,
        AuthModule,
        IndexesModule,
        ProxyModule,
        AdminModule,
        KeysModule,
        UsageModule,
      ],
      providers: [{ provide: LOGGER, useValue: logger }],
      exports: [LOGGER],
    };
  }
}
