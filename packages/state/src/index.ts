// @steward/state: the Prisma client factory, the offline migration runner, row types and a test helper.
export { createDatabase, createPrismaClient, type CreatePrismaClientOptions, type Database, type PrismaClient, type TransactionClient } from './client.js';
export { PgSqlClient, pgTransaction, type SqlClient, type StatementNamer } from './sql-client.js';
export { applyMigrations, type ApplyMigrationsOptions, type ApplyMigrationsResult } from './migrate.js';
export { createTestSchema, type TestSchema } from './testing.js';
export { loadSkillOutputs, outputRefFor, storeSkillOutput } from './skill-outputs.js';
// Prisma namespace: Json input/value types and error classes (e.g. PrismaClientKnownRequestError P2002).
export { Prisma } from './generated/prisma/client.js';
export type {
  ApiKey,
  ContextEntry,
  Decision,
  EscalationAnswer,
  EscalationBatch,
  EscalationRuleSet,
  Inbox,
  LearnedPreference,
  ModelSnapshot,
  Outbox,
  Session,
  ExternalEvent,
  Skill,
  SkillInvocation,
  StepRun,
  Task,
  Tenant,
  Webhook,
  WebhookDelivery,
  WorkflowDefinition,
  WorkflowRun,
} from './generated/prisma/client.js';
export {
  DecisionResolver,
  DecisionStatus,
  EscalationBatchStatus,
  PreferenceStatus,
  SessionStatus,
  SkillInvocationStatus,
  StepRunStatus,
  TaskKind,
  TaskStatus,
  WorkflowRunStatus,
} from './generated/prisma/enums.js';
export { isRetryableConflict, isUniqueViolation, json } from './errors.js';
export { OutboxRelay, type OutboxMessage, type OutboxRelayOptions } from './outbox/relay.js';
export { UnitOfWork, type InboxKey, type UnitOfWorkContext, type UnitOfWorkResult } from './outbox/unit-of-work.js';
export {
  acceptSkillResult,
  acceptSkillResults,
  cancelSkillInvocations,
  dispatchNewSkills,
  dispatchSkill,
  dispatchSkills,
  skillInvokeEvent,
  skillRoutes,
  type DispatchResult,
  type DispatchSkillParams,
  type SkillRoute,
} from './skill-invocations.js';
export {
  ALL_SCOPES,
  ApiScope,
  TenantId,
  createTenant,
  hasScope,
  hashApiKey,
  issueApiKey,
  revokeApiKey,
  verifyApiKey,
  type ApiPrincipal,
  type IssuedApiKey,
} from './api-keys.js';
