import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { IdempotencyKey } from '../http/idempotency.js';
import { tenantOf } from '../http/tenant.js';
import { TaskId } from '../tasks/task.dto.js';
import { ControlRunUseCase } from './control-run.usecase.js';
import { ReadRunsUseCase } from './read-runs.usecase.js';
import { CancelRunBody, RunId, SkipStepBody, StepPath, type ControlAccepted, type RunView, type TaskRunsView } from './run.dto.js';

@Controller('v1')
export class RunsController {
  constructor(
    @Inject(ReadRunsUseCase) private readonly readRuns: ReadRunsUseCase,
    @Inject(ControlRunUseCase) private readonly controlRun: ControlRunUseCase,
  ) {}

  @Get('runs/:id')
  async get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<RunView> {
    return this.readRuns.get(tenantOf(req), parseOr400(RunId, id, 'run id'));
  }

  @Get('tasks/:id/runs')
  async ofTask(@Req() req: FastifyRequest, @Param('id') id: string): Promise<TaskRunsView> {
    return this.readRuns.ofTask(tenantOf(req), parseOr400(TaskId, id, 'task id'));
  }

  @Post('runs/:id/cancel')
  @RequireScope('submit')
  @HttpCode(202)
  async cancel(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<ControlAccepted> {
    const { reason } = parseOr400(CancelRunBody, body ?? {}, 'request body');
    return this.control(req, reply, id, { kind: 'cancel', ...(reason !== undefined ? { reason } : {}) }, key);
  }

  @Post('runs/:id/steps/:stepPath/retry')
  @RequireScope('submit')
  @HttpCode(202)
  async retry(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('id') id: string,
    @Param('stepPath') stepPath: string,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<ControlAccepted> {
    return this.control(req, reply, id, { kind: 'retry', stepPath: parseOr400(StepPath, stepPath, 'step path') }, key);
  }

  @Post('runs/:id/steps/:stepPath/skip')
  @RequireScope('submit')
  @HttpCode(202)
  async skip(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('id') id: string,
    @Param('stepPath') stepPath: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<ControlAccepted> {
    const { output } = parseOr400(SkipStepBody, body ?? {}, 'request body');
    return this.control(req, reply, id, { kind: 'skip', stepPath: parseOr400(StepPath, stepPath, 'step path'), output: output ?? null }, key);
  }

  private async control(req: FastifyRequest, reply: FastifyReply, id: string, action: Parameters<ControlRunUseCase['execute']>[2], key: string | undefined): Promise<ControlAccepted> {
    const tenantId = tenantOf(req);
    const runId = parseOr400(RunId, id, 'run id');
    const idempotencyKey = key === undefined ? undefined : parseOr400(IdempotencyKey, key, 'Idempotency-Key header');
    const accepted = await this.controlRun.execute(tenantId, runId, action, idempotencyKey);
    void reply.header('location', `/v1/runs/${encodeURIComponent(runId)}`);
    return accepted;
  }
}
