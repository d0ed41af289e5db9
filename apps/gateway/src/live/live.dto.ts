import { z } from 'zod';
import { Sequence } from '../audit/audit.dto.js';

export { TaskId } from '../audit/audit.dto.js';

/** `?after=<seq>`: resume after this stream sequence (the `Last-Event-ID` header wins when both are sent). */
export const LiveQuery = z.strictObject({ after: Sequence.optional() });
export const LastEventId = Sequence;
