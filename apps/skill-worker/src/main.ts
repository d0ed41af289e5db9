import 'reflect-metadata';
import { ServiceRuntime, loadConfig, serve } from '@steward/service-kit';
import { SkillWorkerConfig } from './config.js';
import { SkillWorkerModule } from './skill-worker.module.js';

const config = loadConfig(SkillWorkerConfig);
const runtime = await ServiceRuntime.start({ service: 'skill-worker', config });
await serve(runtime, SkillWorkerModule, { port: config.HTTP_PORT, host: config.HTTP_HOST });
