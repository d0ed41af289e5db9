import 'reflect-metadata';
import { ServiceRuntime, loadConfig, serve } from '@steward/service-kit';
import { OrchestratorConfig } from './config.js';
import { OrchestratorModule } from './orchestrator.module.js';

const config = loadConfig(OrchestratorConfig);
const runtime = await ServiceRuntime.start({ service: 'orchestrator', config });
await serve(runtime, OrchestratorModule, { port: config.HTTP_PORT, host: config.HTTP_HOST });
