import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import { SYSTEM_TENANT, parseDefinitionText, registerDefinition } from '@steward/workflows';
import { ApiError } from '../http/api-error.js';
import { unacceptableJson } from '../http/json-limits.js';
import { CatalogueLookup } from '../tasks/catalogue-lookup.js';
import type { RegisteredWorkflowView } from './workflow.dto.js';

/** A definition as it arrived: YAML text, or JSON already parsed by Fastify. */
export type DefinitionBody = { kind: 'yaml'; text: string } | { kind: 'json'; document: unknown };

@Injectable()
export class RegisterWorkflowUseCase {
  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime,
    @Inject(CatalogueLookup) private readonly catalogue: CatalogueLookup,
  ) {}

  async execute(tenantId: string, body: DefinitionBody): Promise<RegisteredWorkflowView> {
    if (tenantId === SYSTEM_TENANT) {
      throw new ApiError(403, 'reserved_tenant', `tenant "${SYSTEM_TENANT}" holds the definitions shipped with the workflow-runner; register under your own tenant`);
    }
    const raw = body.kind === 'json' ? body.document : parseYaml(body.text);
    // The same limits as every other body (nesting depth, text PostgreSQL can store), for YAML and JSON alike.
    const unacceptable = unacceptableJson(raw);
    if (unacceptable) throw new ApiError(400, 'invalid_request', 'the workflow definition is invalid', [unacceptable]);
    const r = await registerDefinition(this.runtime.prisma, raw, tenantId);
    if (r.ok) {
      if (r.status !== 'unchanged') this.catalogue.forgetWorkflow(tenantId, r.name);
      return { id: r.id, name: r.name, version: r.version, status: r.status };
    }
    switch (r.reason) {
      case 'invalid':
        throw new ApiError(400, 'invalid_definition', invalidMessage(r.issues.map((i) => i.message)), r.issues.map((i) => ({ path: i.path, ...(i.step ? { step: i.step } : {}), message: i.message })));
      case 'immutable':
        throw new ApiError(409, 'definition_in_use', r.message);
    }
  }
}

function invalidMessage(messages: string[]): string {
  const shown = messages.slice(0, 3).join('; ');
  return `the workflow definition is invalid: ${shown}${messages.length > 3 ? ` (and ${messages.length - 3} more issues)` : ''}`;
}

function parseYaml(text: string): unknown {
  if (text.trim() === '') throw new ApiError(400, 'invalid_yaml', 'the request body is empty');
  try {
    return parseDefinitionText(text);
  } catch (err) {
    throw new ApiError(400, 'invalid_yaml', err instanceof Error ? err.message : String(err));
  }
}
