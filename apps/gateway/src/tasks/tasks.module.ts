import { Module } from '@nestjs/common';
import { CatalogueLookup } from './catalogue-lookup.js';
import { GetTaskUseCase } from './get-task.usecase.js';
import { SubmitTaskUseCase } from './submit-task.usecase.js';
import { TaskWriter } from './task-writer.js';
import { TasksController } from './tasks.controller.js';

@Module({ controllers: [TasksController], providers: [SubmitTaskUseCase, GetTaskUseCase, CatalogueLookup, TaskWriter], exports: [CatalogueLookup] })
export class TasksModule {}
