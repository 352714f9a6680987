// The audit log's storage. Other repositories write their audit rows through insertAuditEvent inside their own
// transactions; AuditRepository reads the log and records events that have no transaction of their own.
import { Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository.js';

@Module({ providers: [AuditRepository], exports: [AuditRepository] })
export class AuditModule {}
