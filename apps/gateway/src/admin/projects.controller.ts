import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { parseCreateProjectRequest, parseUpdateProjectRequest } from '@conifer/contracts';
import { AdminAuthGuard } from '../admin-auth/admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from '../admin-auth/admin-context.js';
import { JsonBody } from '../common/json-body.js';
import { parseFlag } from '../common/request-params.js';
import { projectModel, type ProjectModel } from './admin-wire.js';
import { ProjectsService } from './projects.service.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('admin/projects')
@UseGuards(AdminAuthGuard)
export class ProjectsController {
  constructor(@Inject(ProjectsService) private readonly projects: ProjectsService) {}

  @Doc({ summary: 'Create a project', body: 'CreateProjectRequest', response: 'Project', status: 201 })
  @Post()
  @HttpCode(201)
  async create(@CurrentAdmin() admin: AdminContext, @JsonBody() body: unknown): Promise<ProjectModel> {
    return projectModel(await this.projects.create(admin, parseCreateProjectRequest(body)));
  }

  @Doc({ summary: 'List projects', response: 'ProjectList' })
  @Get()
  async list(@CurrentAdmin() admin: AdminContext): Promise<{ data: ProjectModel[] }> {
    return { data: (await this.projects.list(admin)).map(projectModel) };
  }

  @Doc({ summary: 'Describe a project', response: 'Project' })
  @Get(':projectId')
  async get(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string): Promise<ProjectModel> {
    return projectModel(await this.projects.get(admin, projectId));
  }

  @Doc({ summary: 'Rename or update a project', body: 'UpdateProjectRequest', response: 'Project' })
  @Patch(':projectId')
  async update(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string, @JsonBody() body: unknown): Promise<ProjectModel> {
    return projectModel(await this.projects.update(admin, projectId, parseUpdateProjectRequest(body)));
  }

  /** 202 with an empty body, as at Pinecone. */
  @Doc({ summary: 'Delete a project (412 while it has indexes or live keys, unless force=true)', status: 202, query: [{ name: 'force', description: 'revoke its keys and delete its indexes first', type: 'boolean' }] })
  @Delete(':projectId')
  @HttpCode(202)
  async delete(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string, @Query('force') force: unknown): Promise<void> {
    await this.projects.delete(admin, projectId, parseFlag(force, 'force'));
  }
}
