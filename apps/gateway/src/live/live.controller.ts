import { Controller, Get, Headers, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { principalOf } from '../auth/principal.js';
import { ApiError, parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { LastEventId, LiveQuery, TaskId } from './live.dto.js';
import { LiveUseCase } from './live.usecase.js';

/**
 * Server-sent events. A stream never ends on its own for escalations, so these routes answer only clients that ask
 * for `text/event-stream` (406 otherwise): a plain `GET` never hangs.
 */
@Controller('v1')
export class LiveController {
  constructor(@Inject(LiveUseCase) private readonly live: LiveUseCase) {}

  /** A task's events as they happen (after a replay of those already stored); ends after the task's final event. */
  @Get('tasks/:id/stream')
  async task(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Query() query: unknown, @Headers('last-event-id') lastEventId: string | undefined): Promise<void> {
    const after = resumePoint(req, query, lastEventId);
    const stream = await this.live.prepareTask(tenantOf(req), principalOf(req).keyId, parseOr400(TaskId, id, 'task id'), after);
    if (stream === 'ended') {
      await reply.status(204).send();
      return;
    }
    await run(reply, stream);
  }

  /** This tenant's escalation batches and decision events as they happen. */
  @Get('escalations/stream')
  async escalations(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: unknown, @Headers('last-event-id') lastEventId: string | undefined): Promise<void> {
    const after = resumePoint(req, query, lastEventId);
    await run(reply, this.live.prepareEscalations(tenantOf(req), principalOf(req).keyId, after));
  }
}

/** Checks Accept and reads the resume point: Last-Event-ID, else `?after=`. */
function resumePoint(req: FastifyRequest, query: unknown, lastEventId: string | undefined): number | undefined {
  if (!/(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(req.headers.accept ?? '')) {
    throw new ApiError(406, 'not_acceptable', 'this route is a server-sent event stream: send "Accept: text/event-stream"');
  }
  const q = parseOr400(LiveQuery, query ?? {}, 'query');
  if (lastEventId !== undefined && lastEventId.trim() !== '') return parseOr400(LastEventId, lastEventId.trim(), 'Last-Event-ID header');
  return q.after;
}

async function run(reply: FastifyReply, stream: (res: ServerResponse) => Promise<void>): Promise<void> {
  reply.hijack();
  await stream(reply.raw);
}
