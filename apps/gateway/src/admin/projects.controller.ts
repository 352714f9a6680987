import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { parseCreateProjectRequest, parseUpdateProjectRequest } from '@conifer/contracts';
import { AdminAuthGuard } from './admin-bearer.strategy.js';
import { CurrentAdmin, JsonBody, parseFlag, type AdminContext } from './admin-context.js';
import { projectModel, type ProjectModel } from './admin-wire.js';
import { ProjectsService } from './projects.service.js';

@Controller('admin/projects')
@UseGuards(AdminAuthGuard)
export class ProjectsController {
  constructor(@Inject(ProjectsService) private readonly projects: ProjectsService) {}

  @Post()
  @HttpCode(201)
  async create(@CurrentAdmin() admin: AdminContext, @JsonBody() body: unknown): Promise<ProjectModel> {
    return projectModel(await this.projects.create(admin, parseCreateProjectRequest(body)));
  }

  @Get()
  async list(@CurrentAdmin() admin: AdminContext): Promise<{ data: ProjectModel[] }> {
    return { data: (await this.projects.list(admin)).map(projectModel) };
  }

  @Get(':projectId')
  async get(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string): Promise<ProjectModel> {
    return projectModel(await this.projects.get(admin, projectId));
  }

  @Patch(':projectId')
  async update(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string, @JsonBody() body: unknown): Promise<ProjectModel> {
    return projectModel(await this.projects.update(admin, projectId, parseUpdateProjectRequest(body)));
  }

  /** 202 with an empty body, as at Pinecone. */
  @Delete(':projectId')
  @HttpCode(202)
  async delete(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string, @Query('force') force: unknown): Promise<void> {
    await this.projects.delete(admin, projectId, parseFlag(force, 'force'));
  }
}
