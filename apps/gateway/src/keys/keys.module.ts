// API-key administration (mint, list, describe, update, revoke, rotate) and the batched last-used writer that
// the per-request verification path feeds (LastUsedRecorder, global).
import { Global, Module } from '@nestjs/common';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { LastUsedSink } from '../auth/last-used.sink.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { LastUsedRecorder } from './last-used.recorder.js';

@Global()
@Module({
  imports: [AdminAuthModule, TenantsModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysService,
    LastUsedRecorder,
    // The verification path reports key use through this port; the recorder batches the writes.
    { provide: LastUsedSink, useExisting: LastUsedRecorder },
  ],
  exports: [LastUsedRecorder, LastUsedSink],
})
export class KeysModule {}
