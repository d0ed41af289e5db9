import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { CancelTaskUseCase } from './cancel-task.usecase.js';
import { GetTaskUseCase } from './get-task.usecase.js';
import { ListTasksUseCase } from './list-tasks.usecase.js';
import { SubmitTaskUseCase } from './submit-task.usecase.js';
import { CancelTaskBody, IdempotencyKey, SubmitTaskBody, TaskId, TaskListQuery, type TaskListView, type TaskView } from './task.dto.js';

@Controller('v1/tasks')
export class TasksController {
  constructor(
    @Inject(SubmitTaskUseCase) private readonly submitTask: SubmitTaskUseCase,
    @Inject(GetTaskUseCase) private readonly getTask: GetTaskUseCase,
    @Inject(ListTasksUseCase) private readonly listTasks: ListTasksUseCase,
    @Inject(CancelTaskUseCase) private readonly cancelTask: CancelTaskUseCase,
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

  @Get()
  async list(@Req() req: FastifyRequest, @Query() query: unknown): Promise<TaskListView> {
    return this.listTasks.execute(tenantOf(req), parseOr400(TaskListQuery, query ?? {}, 'query'));
  }

  @Get(':id')
  async get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<TaskView> {
    return this.getTask.execute(tenantOf(req), parseOr400(TaskId, id, 'task id'));
  }

  /** 202: the cancellation is on its way to the orchestrator; 200: the task was already cancelled; 409: it ended otherwise. */
  @Post(':id/cancel')
  @RequireScope('submit')
  async cancel(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idemHeader: string | undefined,
  ): Promise<void> {
    const tenantId = tenantOf(req);
    const taskId = parseOr400(TaskId, id, 'task id');
    const { reason } = parseOr400(CancelTaskBody, body ?? {}, 'request body');
    const key = idemHeader === undefined ? undefined : parseOr400(IdempotencyKey, idemHeader, 'Idempotency-Key header');
    const r = await this.cancelTask.execute(tenantId, taskId, reason, key);
    await reply.status(r.accepted ? 202 : 200).header('location', `/v1/tasks/${taskId}`).send(r.view);
  }
}
