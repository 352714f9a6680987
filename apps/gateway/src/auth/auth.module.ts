import { Global, Module } from '@nestjs/common';
import { InProcessKeyEvents, KeyEvents } from './key-events.js';

@Global()
@Module({
  providers: [{ provide: KeyEvents, useClass: InProcessKeyEvents }],
  exports: [KeyEvents],
})
export class AuthModule {}
