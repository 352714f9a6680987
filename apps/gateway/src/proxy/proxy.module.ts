// Data plane: plain Fastify routes (data-plane.routes.ts) routing by path prefix or Host header, forwarding
// to the index's vector-store node; DataPlaneReports is where finished data-plane requests are reported (per-key usage listens there).
import { Module } from '@nestjs/common';
import { DataPlaneHttp } from './data-plane.http.js';
import { DataPlaneProxy } from './data-plane.proxy.js';
import { DataPlaneReports } from './data-plane.reports.js';
import { DataPlaneRoutes } from './data-plane.routes.js';
import { UsageReporter } from './usage-reporter.js';

@Module({
  providers: [DataPlaneHttp, DataPlaneProxy, DataPlaneReports, DataPlaneRoutes, UsageReporter],
  exports: [DataPlaneReports],
})
export class ProxyModule {}
