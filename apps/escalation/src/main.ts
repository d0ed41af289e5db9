import 'reflect-metadata';
import { ServiceRuntime, loadConfig, serve } from '@steward/service-kit';
import { EscalationConfig } from './config.js';
import { EscalationModule } from './escalation.module.js';

const config = loadConfig(EscalationConfig);
const runtime = await ServiceRuntime.start({ service: 'escalation', config });
await serve(runtime, EscalationModule, { port: config.HTTP_PORT, host: config.HTTP_HOST });
