import { Module } from '@nestjs/common';
import { TasksModule } from '../tasks/tasks.module.js';
import { ReadWorkflowsUseCase } from './read-workflows.usecase.js';
import { RegisterWorkflowUseCase } from './register-workflow.usecase.js';
import { SchemasController, WorkflowsController } from './workflows.controller.js';
import { YamlBodyParser } from './yaml-body.js';

@Module({ imports: [TasksModule], controllers: [WorkflowsController, SchemasController], providers: [RegisterWorkflowUseCase, ReadWorkflowsUseCase, YamlBodyParser] })
export class WorkflowsModule {}
