import { WorkflowName } from '@steward/contracts';
import { z } from 'zod';

export const WorkflowNameParam = WorkflowName;
/** A version in a path: a positive integer. */
export const WorkflowVersionParam = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, 'versions are positive integers')
  .transform((v) => Number(v));

/** What POST /v1/workflows answers when the definition is stored (or already was). */
export interface RegisteredWorkflowView {
  id: string;
  name: string;
  version: number;
  status: 'registered' | 'updated' | 'unchanged';
}

/** One definition version as listed: `tenant` is the caller's own tenant or `system` (shipped with the runner). */
export interface WorkflowVersionView {
  name: string;
  version: number;
  description?: string;
  tenant: string;
  createdAt: string;
  /** Set once a run has used the version: from then on it cannot change. */
  firstUsedAt?: string;
  inUse: boolean;
}

export interface WorkflowListView {
  workflows: WorkflowVersionView[];
}

export interface WorkflowVersionsView {
  name: string;
  versions: WorkflowVersionView[];
}

export interface WorkflowDocumentView extends WorkflowVersionView {
  id: string;
  hash: string;
  definition: unknown;
}
