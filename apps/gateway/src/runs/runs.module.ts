import { Module } from '@nestjs/common';
import { ControlRunUseCase } from './control-run.usecase.js';
import { ReadRunsUseCase } from './read-runs.usecase.js';
import { RunsController } from './runs.controller.js';

@Module({ controllers: [RunsController], providers: [ReadRunsUseCase, ControlRunUseCase] })
export class RunsModule {}
