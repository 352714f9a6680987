// API-key administration (mint, list, describe, update, revoke, rotate) and the batched last-used writer that
// the per-request verification path feeds (LastUsedRecorder, global).
import { Global, Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module.js';
import { LastUsedSink } from '../auth/last-used.sink.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { LastUsedRecorder } from './last-used.recorder.js';
import { LastUsedRepository } from './last-used.repository.js';

@Global()
@Module({
  imports: [AdminModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysRepository,
    ApiKeysService,
    LastUsedRepository,
    LastUsedRecorder,
    // The verification path reports key use through this port; the recorder batches the writes.
    { provide: LastUsedSink, useExisting: LastUsedRecorder },
  ],
  exports: [LastUsedRecorder, LastUsedSink, ApiKeysRepository],
})
export class KeysModule {}
