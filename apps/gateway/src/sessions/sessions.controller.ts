import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { ContextUseCase } from './context.usecase.js';
import {
  ContextKey,
  ContextListQuery,
  CreateSessionBody,
  PutContextBody,
  SessionId,
  SessionListQuery,
  type ContextEntryView,
  type ContextListView,
  type SessionAction,
  type SessionDetailView,
  type SessionListView,
  type SessionView,
} from './session.dto.js';
import { SessionsUseCase } from './sessions.usecase.js';

@Controller('v1/sessions')
export class SessionsController {
  constructor(
    @Inject(SessionsUseCase) private readonly sessions: SessionsUseCase,
    @Inject(ContextUseCase) private readonly context: ContextUseCase,
  ) {}

  @Post()
  @RequireScope('submit')
  @HttpCode(201)
  async create(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Body() body: unknown): Promise<SessionView> {
    const session = await this.sessions.create(tenantOf(req), parseOr400(CreateSessionBody, body ?? {}, 'request body'));
    void reply.header('location', `/v1/sessions/${session.id}`);
    return session;
  }

  @Get()
  async list(@Req() req: FastifyRequest, @Query() query: unknown): Promise<SessionListView> {
    return this.sessions.list(tenantOf(req), parseOr400(SessionListQuery, query ?? {}, 'query'));
  }

  @Get(':id')
  async get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<SessionDetailView> {
    return this.sessions.get(tenantOf(req), parseOr400(SessionId, id, 'session id'));
  }

  @Post(':id/pause')
  @RequireScope('submit')
  @HttpCode(200)
  async pause(@Req() req: FastifyRequest, @Param('id') id: string): Promise<SessionView> {
    return this.transition(req, id, 'pause');
  }

  @Post(':id/resume')
  @RequireScope('submit')
  @HttpCode(200)
  async resume(@Req() req: FastifyRequest, @Param('id') id: string): Promise<SessionView> {
    return this.transition(req, id, 'resume');
  }

  @Post(':id/close')
  @RequireScope('submit')
  @HttpCode(200)
  async close(@Req() req: FastifyRequest, @Param('id') id: string): Promise<SessionView> {
    return this.transition(req, id, 'close');
  }

  @Get(':id/context')
  async listContext(@Req() req: FastifyRequest, @Param('id') id: string, @Query() query: unknown): Promise<ContextListView> {
    const sessionId = parseOr400(SessionId, id, 'session id');
    return this.context.list(tenantOf(req), sessionId, parseOr400(ContextListQuery, query ?? {}, 'query'));
  }

  /** Counts as a read of the entry: its accessCount goes up by one. */
  @Get(':id/context/:key')
  async getContext(@Req() req: FastifyRequest, @Param('id') id: string, @Param('key') key: string): Promise<ContextEntryView> {
    return this.context.get(tenantOf(req), parseOr400(SessionId, id, 'session id'), parseOr400(ContextKey, key, 'context key'));
  }

  /** 201 when the entry is new (or replaces an expired one), 200 when it replaced a live one. */
  @Put(':id/context/:key')
  @RequireScope('submit')
  async putContext(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Param('key') key: string, @Body() body: unknown): Promise<void> {
    const sessionId = parseOr400(SessionId, id, 'session id');
    const k = parseOr400(ContextKey, key, 'context key');
    const r = await this.context.put(tenantOf(req), sessionId, k, parseOr400(PutContextBody, body ?? {}, 'request body'));
    await reply
      .status(r.created ? 201 : 200)
      .header('location', `/v1/sessions/${sessionId}/context/${k}`)
      .send(r.entry);
  }

  @Delete(':id/context/:key')
  @RequireScope('submit')
  @HttpCode(204)
  async deleteContext(@Req() req: FastifyRequest, @Param('id') id: string, @Param('key') key: string): Promise<void> {
    await this.context.delete(tenantOf(req), parseOr400(SessionId, id, 'session id'), parseOr400(ContextKey, key, 'context key'));
  }

  private async transition(req: FastifyRequest, id: string, action: SessionAction): Promise<SessionView> {
    return this.sessions.transition(tenantOf(req), parseOr400(SessionId, id, 'session id'), action);
  }
}
