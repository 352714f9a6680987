import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import { NotFoundError } from '@conifer/contracts';
import type { FastifyReply } from 'fastify';
import { CONFIG } from '../config/runtime.js';
import { MetricsService } from './metrics.service.js';
import { ReadinessService } from './readiness.service.js';

@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: ConiferConfig,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const report = await this.readiness.report();
    reply.status(report.ready ? 200 : 503);
    return { status: report.ready ? 'ready' : 'not ready', checks: report.checks };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  async metricsText() {
    if (!this.config.gateway.metricsEnabled) throw new NotFoundError('Metrics are disabled');
    return this.metrics.registry.metrics();
  }
}
