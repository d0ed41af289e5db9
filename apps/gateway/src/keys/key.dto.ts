import { ApiScope } from '@steward/state';
import { z } from 'zod';

export const CreateKeyBody = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z.array(ApiScope).min(1),
});
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

export const KeyId = z.uuid();

export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
