import { BaseConfig, RedisConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const GatewayConfig = BaseConfig.extend(withHttpPort(8080).shape)
  .extend(RedisConfig.shape)
  .extend({
    /** Requests per second per API key; enforced in Redis, failing open when Redis is down. */
    RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(5000),
    /** How long a verified API key is trusted without a database lookup; a revocation elsewhere takes effect within it. */
    API_KEY_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
    BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
    /** Audit reads: messages of the event stream one request may examine before it answers with a cursor to continue. */
    AUDIT_SCAN_MAX_MESSAGES: z.coerce.number().int().positive().default(200_000),
    /** A task's events are read from the stream from this long before the task's createdAt (clock skew between PostgreSQL and NATS). */
    AUDIT_CLOCK_SKEW_MS: z.coerce.number().int().nonnegative().default(60_000),
    /** Live updates (SSE): a comment line this often keeps idle connections open through proxies. */
    LIVE_HEARTBEAT_MS: z.coerce.number().int().positive().default(15_000),
    /** Open live streams per API key; one more is refused with 429. */
    LIVE_MAX_STREAMS_PER_KEY: z.coerce.number().int().positive().default(8),
    /** Open live streams per gateway process; one more is refused with 503. */
    LIVE_MAX_STREAMS: z.coerce.number().int().positive().default(10_000),
    /** Bytes a slow client may leave unread before its stream is closed (it resumes with Last-Event-ID). */
    LIVE_MAX_BUFFERED_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
    /** How long the shared live subscription stays open after its last client left. */
    LIVE_IDLE_STOP_MS: z.coerce.number().int().nonnegative().default(30_000),
    /** Deliver webhooks from this process (every replica shares one durable consumer). */
    WEBHOOKS_ENABLED: z.stringbool().default(true),
    /** Allow webhook URLs that are or resolve to loopback, private, link-local or other non-public addresses (SSRF guard off). */
    WEBHOOK_ALLOW_PRIVATE: z.stringbool().default(false),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Attempts per event and endpoint before the delivery is marked failed. */
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
    /** Delay before the first retry; doubled at each further attempt up to WEBHOOK_RETRY_MAX_MS. */
    WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().positive().default(10_000),
    WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().positive().default(3_600_000),
    /** Events handled at once by this process's webhook deliverer. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().positive().default(16),
    /** How long a tenant's webhook list is cached by the deliverer; a change made through another replica shows within it. */
    WEBHOOK_CACHE_MS: z.coerce.number().int().nonnegative().default(5_000),
  });
export type GatewayConfig = z.infer<typeof GatewayConfig>;
