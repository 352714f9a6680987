// Per-key usage: the recorder the data-plane proxy reports each finished request to (global), its batched
// repository, and the admin routes that read it.
import { Global, Module } from '@nestjs/common';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { UsageController } from './usage.controller.js';
import { UsageRecorder } from './usage.recorder.js';
import { UsageRepository } from './usage.repository.js';
import { UsageService } from './usage.service.js';

@Global()
@Module({
  imports: [AdminAuthModule],
  controllers: [UsageController],
  providers: [UsageRepository, UsageRecorder, UsageService],
  exports: [UsageRecorder],
})
export class UsageModule {}
