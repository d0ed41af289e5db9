import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { EscalationPolicy } from '@steward/contracts';
import type { FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { AnswerBatchBody, AnswerDecisionBody, BatchId, BatchStatusQuery, DecisionId, DecisionListQuery, PolicyVersionsQuery, PreferenceId, RevokePreferenceBody, RuleId, type AnswersAccepted, type BatchView, type DecisionView, type PolicyHistoryView, type PolicyVersionView } from './escalation.dto.js';
import { EscalationsUseCase } from './escalations.usecase.js';

@Controller('v1')
export class EscalationsController {
  constructor(@Inject(EscalationsUseCase) private readonly escalations: EscalationsUseCase) {}

  @Get('escalations/batches')
  async batches(@Req() req: FastifyRequest, @Query() query: unknown): Promise<{ batches: BatchView[] }> {
    const q = parseOr400(BatchStatusQuery, query ?? {}, 'query');
    return this.escalations.listBatches(tenantOf(req), q.status, q.limit);
  }

  @Get('escalations/batches/:id')
  async batch(@Req() req: FastifyRequest, @Param('id') id: string): Promise<BatchView> {
    return this.escalations.getBatch(tenantOf(req), parseOr400(BatchId, id, 'batch id'));
  }

  @Post('escalations/batches/:id/answers')
  @RequireScope('answer')
  @HttpCode(202)
  async answerBatch(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<AnswersAccepted> {
    return this.escalations.answerBatch(tenantOf(req), parseOr400(BatchId, id, 'batch id'), parseOr400(AnswerBatchBody, body ?? {}, 'request body'));
  }

  @Get('decisions')
  async decisions(@Req() req: FastifyRequest, @Query() query: unknown): Promise<{ decisions: DecisionView[] }> {
    return this.escalations.listDecisions(tenantOf(req), parseOr400(DecisionListQuery, query ?? {}, 'query'));
  }

  @Get('decisions/:id')
  async decision(@Req() req: FastifyRequest, @Param('id') id: string): Promise<DecisionView> {
    return this.escalations.getDecision(tenantOf(req), parseOr400(DecisionId, id, 'decision id'));
  }

  @Post('decisions/:id/answer')
  @RequireScope('answer')
  @HttpCode(202)
  async answer(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<AnswersAccepted> {
    const { choice, answeredBy } = parseOr400(AnswerDecisionBody, body ?? {}, 'request body');
    return this.escalations.answer(tenantOf(req), parseOr400(DecisionId, id, 'decision id'), choice, answeredBy);
  }

  @Get('escalations/preferences')
  async preferences(@Req() req: FastifyRequest): Promise<{ preferences: unknown[] }> {
    return this.escalations.listPreferences(tenantOf(req));
  }

  @Post('escalations/preferences/:id/revoke')
  @RequireScope('answer')
  @HttpCode(202)
  async revoke(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<{ preferenceId: string; requestId: string }> {
    const { by } = parseOr400(RevokePreferenceBody, body ?? {}, 'request body');
    return this.escalations.revokePreference(tenantOf(req), parseOr400(PreferenceId, id, 'preference id'), by);
  }

  @Get('escalations/policy')
  async policy(@Req() req: FastifyRequest): Promise<PolicyVersionView> {
    return this.escalations.getPolicy(tenantOf(req));
  }

  @Put('escalations/policy')
  @RequireScope('admin')
  async putPolicy(@Req() req: FastifyRequest, @Body() body: unknown): Promise<PolicyVersionView> {
    return this.escalations.putPolicy(tenantOf(req), parseOr400(EscalationPolicy, body ?? {}, 'policy'));
  }

  @Get('escalations/policy/versions')
  async policyVersions(@Req() req: FastifyRequest, @Query() query: unknown): Promise<PolicyHistoryView> {
    const { limit } = parseOr400(PolicyVersionsQuery, query ?? {}, 'query');
    return this.escalations.listPolicyVersions(tenantOf(req), limit);
  }

  @Delete('escalations/policy/rules/:ruleId')
  @RequireScope('admin')
  async removeRule(@Req() req: FastifyRequest, @Param('ruleId') ruleId: string): Promise<PolicyVersionView> {
    return this.escalations.removeRule(tenantOf(req), parseOr400(RuleId, ruleId, 'rule id'));
  }
}
