import { Body, Controller, Get, Header, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { workflowDefinitionJsonSchema } from '@steward/contracts';
import { Public } from '@steward/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { ApiError, parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { ReadWorkflowsUseCase } from './read-workflows.usecase.js';
import { RegisterWorkflowUseCase, type DefinitionBody } from './register-workflow.usecase.js';
import { WorkflowNameParam, WorkflowVersionParam, type WorkflowDocumentView, type WorkflowListView, type WorkflowVersionsView } from './workflow.dto.js';
import { DEFINITION_LIMIT_BYTES, YAML_CONTENT_TYPES, isYamlContentType } from './yaml-body.js';

@Controller('v1/workflows')
export class WorkflowsController {
  constructor(
    @Inject(RegisterWorkflowUseCase) private readonly registerWorkflow: RegisterWorkflowUseCase,
    @Inject(ReadWorkflowsUseCase) private readonly readWorkflows: ReadWorkflowsUseCase,
  ) {}

  /** Registers a definition (YAML or JSON) for the caller's tenant: 201 stored or changed, 200 unchanged. */
  @Post()
  @RequireScope('admin')
  async register(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    const tenantId = tenantOf(req);
    const r = await this.registerWorkflow.execute(tenantId, definitionBody(req, body));
    await reply
      .status(r.status === 'unchanged' ? 200 : 201)
      .header('location', `/v1/workflows/${r.name}/versions/${r.version}`)
      .send(r);
  }

  @Get()
  async list(@Req() req: FastifyRequest): Promise<WorkflowListView> {
    return this.readWorkflows.list(tenantOf(req));
  }

  @Get(':name')
  async versions(@Req() req: FastifyRequest, @Param('name') name: string): Promise<WorkflowVersionsView> {
    return this.readWorkflows.versions(tenantOf(req), parseOr400(WorkflowNameParam, name, 'workflow name'));
  }

  @Get(':name/versions/:version')
  async get(@Req() req: FastifyRequest, @Param('name') name: string, @Param('version') version: string): Promise<WorkflowDocumentView> {
    return this.readWorkflows.get(tenantOf(req), parseOr400(WorkflowNameParam, name, 'workflow name'), parseOr400(WorkflowVersionParam, version, 'workflow version'));
  }
}

/** JSON Schema of definition documents, for editors (`# yaml-language-server: $schema=<gateway>/v1/schemas/workflow-definition.json`). */
@Controller('v1/schemas')
@Public()
export class SchemasController {
  private readonly workflowDefinition = workflowDefinitionJsonSchema();

  @Get('workflow-definition.json')
  @Header('content-type', 'application/schema+json; charset=utf-8')
  @Header('cache-control', 'public, max-age=300')
  workflowDefinitionSchema(): Record<string, unknown> {
    return this.workflowDefinition;
  }
}

function definitionBody(req: FastifyRequest, body: unknown): DefinitionBody {
  const length = Number(req.headers['content-length']);
  if (length > DEFINITION_LIMIT_BYTES) throw new ApiError(413, 'payload_too_large', `a workflow definition may be at most ${DEFINITION_LIMIT_BYTES} bytes`);
  const contentType = req.headers['content-type'];
  if (isYamlContentType(contentType) && typeof body === 'string') return { kind: 'yaml', text: body };
  if (typeof body === 'string') {
    throw new ApiError(415, 'unsupported_media_type', `send the definition as application/json or YAML (${YAML_CONTENT_TYPES.join(', ')})`);
  }
  if (body === undefined || body === null) throw new ApiError(400, 'invalid_request', 'the request body must be a workflow definition (YAML or JSON)');
  return { kind: 'json', document: body };
}
