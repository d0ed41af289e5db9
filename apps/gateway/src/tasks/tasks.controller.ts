import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { GetTaskUseCase } from './get-task.usecase.js';
import { SubmitTaskUseCase } from './submit-task.usecase.js';
import { IdempotencyKey, SubmitTaskBody, TaskId, type TaskView } from './task.dto.js';

@Controller('v1/tasks')
export class TasksController {
  constructor(
    @Inject(SubmitTaskUseCase) private readonly submitTask: SubmitTaskUseCase,
    @Inject(GetTaskUseCase) private readonly getTask: GetTaskUseCase,
  ) {}

  @Post()
  @RequireScope('submit')
  @HttpCode(202)
  async submit(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: unknown,
    @Headers('idempotency-key') idemHeader: string | undefined,
  ): Promise<{ taskId: string }> {
    const tenantId = tenantOf(req);
    const parsed = parseOr400(SubmitTaskBody, body ?? {}, 'request body');
    const key = idemHeader === undefined ? undefined : parseOr400(IdempotencyKey, idemHeader, 'Idempotency-Key header');
    const result = await this.submitTask.execute(tenantId, parsed, key);
    void reply.header('location', `/v1/tasks/${result.taskId}`);
    if (!result.created) void reply.header('idempotent-replayed', 'true');
    return { taskId: result.taskId };
  }

  @Get(':id')
  async get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<TaskView> {
    return this.getTask.execute(tenantOf(req), parseOr400(TaskId, id, 'task id'));
  }
}
