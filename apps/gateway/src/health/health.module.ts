import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { RedisService } from '../redis/redis.service.js';
import { HealthController } from './health.controller.js';
import { MetricsService } from './metrics.service.js';
import { ReadinessService } from './readiness.service.js';

@Global()
@Module({
  controllers: [HealthController],
  providers: [ReadinessService, MetricsService],
  exports: [ReadinessService, MetricsService],
})
export class HealthModule implements OnModuleInit {
  constructor(
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(PrismaService) private readonly prisma: PrismaService,
    @Inject(RedisService) private readonly redis: RedisService,
  ) {}

  onModuleInit(): void {
    this.readiness.register('postgres', () => this.prisma.ping());
    if (this.redis.enabled) this.readiness.register('redis', () => this.redis.ping());
  }
}
