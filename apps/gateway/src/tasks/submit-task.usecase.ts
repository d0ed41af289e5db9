import { Inject, Injectable } from '@nestjs/common';
import { makeEvent } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import { isUniqueViolation, json, type Task } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';
import { CatalogueLookup } from './catalogue-lookup.js';
import { SessionNotActiveError, TaskWriter } from './task-writer.js';
import type { SubmitTaskBody } from './task.dto.js';

type Target = { kind: 'skill'; skill: string } | { kind: 'workflow'; workflow: string; version: number };

export interface SubmitTaskResult {
  taskId: string;
  /** False when an Idempotency-Key matched an earlier submission. */
  created: boolean;
}

@Injectable()
export class SubmitTaskUseCase {
  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime,
    @Inject(CatalogueLookup) private readonly catalogue: CatalogueLookup,
    @Inject(TaskWriter) private readonly writer: TaskWriter,
  ) {}

  async execute(tenantId: string, body: SubmitTaskBody, idempotencyKey?: string): Promise<SubmitTaskResult> {
    const target = await this.resolveTarget(tenantId, body);
    if (body.sessionId !== undefined) {
      const status = await this.catalogue.sessionStatus(tenantId, body.sessionId);
      if (status === undefined) throw new ApiError(422, 'unknown_session', `no session ${body.sessionId} for this tenant`);
      if (status !== 'active') return this.inactiveSession(tenantId, body, target, status, idempotencyKey);
    }
    const taskId = randomUUID();
    const submittedAt = new Date();
    try {
      await this.writer.write(
        {
          id: taskId,
          tenantId,
          sessionId: body.sessionId ?? null,
          kind: target.kind,
          skill: target.kind === 'skill' ? target.skill : null,
          workflowName: target.kind === 'workflow' ? target.workflow : null,
          workflowVersion: target.kind === 'workflow' ? target.version : null,
          input: json(body.input),
          status: 'pending',
          idempotencyKey: idempotencyKey ?? null,
          createdAt: submittedAt,
        },
        makeEvent(
          'task.submitted.v1',
          { taskId, tenantId, ...(body.sessionId ? { sessionId: body.sessionId } : {}), target, input: body.input, submittedAt: submittedAt.toISOString() },
          { source: 'steward/gateway', tenantId, correlationId: taskId, subject: taskId },
        ),
      );
      return { taskId, created: true };
    } catch (err) {
      if (err instanceof SessionNotActiveError) return this.inactiveSession(tenantId, body, target, 'paused or closed', idempotencyKey);
      if (!idempotencyKey || !isUniqueViolation(err)) throw err;
      return this.replay(tenantId, idempotencyKey, body, target);
    }
  }

  /** A paused or closed session takes no new task: 409, unless this is the replay of one it took while active. */
  private async inactiveSession(tenantId: string, body: SubmitTaskBody, target: Target, status: string, idempotencyKey: string | undefined): Promise<SubmitTaskResult> {
    if (idempotencyKey !== undefined) {
      const earlier = await this.runtime.prisma.task.count({ where: { tenantId, idempotencyKey } });
      if (earlier > 0) return this.replay(tenantId, idempotencyKey, body, target);
    }
    throw new ApiError(409, 'session_not_active', `session ${body.sessionId} is ${status}: it takes no new tasks${status === 'paused' ? ' until it is resumed' : ''}`);
  }

  private async resolveTarget(tenantId: string, body: SubmitTaskBody): Promise<Target> {
    if (body.skill !== undefined) {
      if (!(await this.catalogue.skillExists(body.skill))) {
        throw new ApiError(422, 'unknown_skill', `no skill named "${body.skill}" is registered by any skill-worker`);
      }
      return { kind: 'skill' as const, skill: body.skill };
    }
    const name = body.workflow!;
    const version = await this.catalogue.workflowVersion(tenantId, name, body.version);
    if (version === undefined) {
      const which = body.version === undefined ? `"${name}"` : `"${name}" version ${body.version}`;
      throw new ApiError(422, 'unknown_workflow', `no workflow ${which} is registered`);
    }
    return { kind: 'workflow' as const, workflow: name, version };
  }

  /** Same key, same request: the earlier task. Same key, different request: refused, like Stripe does. */
  private async replay(tenantId: string, key: string, body: SubmitTaskBody, target: Target): Promise<SubmitTaskResult> {
    const existing = await this.runtime.prisma.task.findUnique({ where: { tenantId_idempotencyKey: { tenantId, idempotencyKey: key } } });
    if (!existing) throw new ApiError(409, 'conflict', 'a concurrent submission with this Idempotency-Key is in progress; retry');
    if (!sameRequest(existing, body, target)) {
      throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
    }
    return { taskId: existing.id, created: false };
  }
}

function sameRequest(t: Task, body: SubmitTaskBody, target: Target): boolean {
  const sameTarget = target.kind === 'skill' ? t.kind === 'skill' && t.skill === target.skill : t.kind === 'workflow' && t.workflowName === target.workflow && t.workflowVersion === target.version;
  return sameTarget && canonical(t.input) === canonical(body.input) && (t.sessionId ?? undefined) === body.sessionId;
}

/** JSON with sorted keys, so jsonb's key reordering does not make equal inputs differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
