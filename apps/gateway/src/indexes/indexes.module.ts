// Control plane: the index catalog, vector-store nodes and placement. Global so that the admin API can
// inject ProjectIndexRemover and the data-plane proxy IndexRoutes.
import { Global, Module } from '@nestjs/common';
import { IndexRoutes } from './index-routes.js';
import { IndexesController } from './indexes.controller.js';
import { IndexesRepository, PrismaIndexesRepository } from './indexes.repository.js';
import { IndexesService } from './indexes.service.js';
import { ProjectIndexRemover } from '../tenants/project-index-remover.js';
import { ReplicaRepair } from './replica-repair.service.js';
import { PrismaVectorStoreNodesRepository, VectorStoreNodesRepository } from './vector-store-nodes.repository.js';
import { VectorStoreNodes } from './vector-store-nodes.service.js';

@Global()
@Module({
  controllers: [IndexesController],
  providers: [
    { provide: IndexesRepository, useClass: PrismaIndexesRepository },
    { provide: VectorStoreNodesRepository, useClass: PrismaVectorStoreNodesRepository },
    VectorStoreNodes,
    IndexRoutes,
    IndexesService,
    ReplicaRepair,
    { provide: ProjectIndexRemover, useExisting: IndexesService },
  ],
  exports: [IndexRoutes, VectorStoreNodes, IndexesService, ProjectIndexRemover],
})
export class IndexesModule {}
