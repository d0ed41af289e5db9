import { z } from 'zod';
import { Catalogue } from './catalogue.js';
import { EnvelopeAttributes } from './envelope.js';
import { WorkflowDefinition } from './workflow-definition.js';

/** JSON Schema (draft 2020-12) of every catalogued event's full envelope, keyed by CloudEvents type. */
export function catalogueJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of Object.values(Catalogue)) {
    const full = EnvelopeAttributes.extend({ type: z.literal(e.type), data: e.schema });
    out[e.type] = {
      $id: `https://steward.dev/schemas/${e.type}.json`,
      title: e.type,
      description: `Steward event ${e.name} v${e.version}, published on ${e.filter} (stream ${e.stream}).`,
      ...z.toJSONSchema(full, { io: 'input', unrepresentable: 'any' }),
    };
  }
  return out;
}

/** JSON Schema of workflow definition documents, for editors (`# yaml-language-server: $schema=...`). */
export function workflowDefinitionJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://steward.dev/schemas/workflow-definition.schema.json',
    title: 'Steward workflow definition',
    ...z.toJSONSchema(WorkflowDefinition, { io: 'input', unrepresentable: 'any' }),
  };
}

/** Every published JSON Schema by file name (the files in packages/contracts/json-schema). */
export function jsonSchemaFiles(): Record<string, unknown> {
  const files: Record<string, unknown> = { 'workflow-definition.schema.json': workflowDefinitionJsonSchema() };
  for (const [type, schema] of Object.entries(catalogueJsonSchemas())) files[`${type}.json`] = schema;
  return files;
}
