// Data plane: routing by path prefix or Host header, forwarding to the index's vector-store node.
import { Module } from '@nestjs/common';
import { DataPlaneController } from './data-plane.controller.js';
import { DataPlaneHttp } from './data-plane.http.js';
import { DataPlaneProxy } from './data-plane.proxy.js';

@Module({
  controllers: [DataPlaneController],
  providers: [DataPlaneHttp, DataPlaneProxy],
})
export class ProxyModule {}
