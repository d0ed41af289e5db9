import { z } from 'zod';
import { LlmError } from './errors.js';

export type JsonSchema = Record<string, unknown>;

export interface ToolSchema {
  /** What goes in the tool's input_schema: always an object schema, as the API requires. */
  inputSchema: JsonSchema & { type: 'object' };
  /** True when the value schema was not an object and is carried as `{ value: … }`. */
  wrapped: boolean;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function assertToolName(name: string): void {
  if (!TOOL_NAME.test(name)) {
    throw new LlmError('bad_request', `schemaName "${name}" is not a valid tool name: use 1-64 letters, digits, "_" or "-"`);
  }
}

/** JSON Schema of what the model must send: the schema's input side, since zod parses that. */
export function toToolSchema(schema: z.ZodType): ToolSchema {
  let json: JsonSchema;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  } catch (err) {
    throw new LlmError('bad_request', `the schema cannot be expressed as JSON Schema: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const { $schema: _ignored, ...rest } = json;
  if (rest['type'] === 'object') return { inputSchema: rest as JsonSchema & { type: 'object' }, wrapped: false };
  // Tool input must be an object, so scalars/arrays/unions travel inside one property.
  const { $defs, ...inner } = rest;
  const wrappedSchema: JsonSchema & { type: 'object' } = { type: 'object', properties: { value: inner }, required: ['value'], additionalProperties: false };
  if ($defs !== undefined) wrappedSchema['$defs'] = $defs;
  return { inputSchema: wrappedSchema, wrapped: true };
}

/** The value the zod schema should parse, out of the tool input. */
export function unwrapToolInput(input: unknown, wrapped: boolean): unknown {
  if (!wrapped) return input;
  return typeof input === 'object' && input !== null && 'value' in input ? input.value : undefined;
}

/** A short, model-readable list of what was wrong, for the retry message and the final error. */
export function describeIssues(error: z.ZodError, max = 10): string {
  const lines = error.issues.slice(0, max).map((i) => `- ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > max) lines.push(`- …and ${error.issues.length - max} more`);
  return lines.join('\n');
}
