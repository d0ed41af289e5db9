import 'reflect-metadata';
import { ServiceRuntime, loadConfig, serve } from '@steward/service-kit';
import { WorkflowRunnerConfig } from './config.js';
import { WorkflowRunnerModule } from './workflow-runner.module.js';

const config = loadConfig(WorkflowRunnerConfig);
const runtime = await ServiceRuntime.start({ service: 'workflow-runner', config });
await serve(runtime, WorkflowRunnerModule, { port: config.HTTP_PORT, host: config.HTTP_HOST });
