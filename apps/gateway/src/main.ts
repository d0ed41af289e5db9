import 'reflect-metadata';
import { ServiceRuntime, loadConfig, serve } from '@steward/service-kit';
import { GatewayConfig } from './config.js';
import { GatewayModule } from './gateway.module.js';

const config = loadConfig(GatewayConfig);
const runtime = await ServiceRuntime.start({ service: 'gateway', config, redis: true });
await serve(runtime, GatewayModule, {
  port: config.HTTP_PORT,
  host: config.HTTP_HOST,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
});
