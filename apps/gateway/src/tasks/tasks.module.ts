import { Module } from '@nestjs/common';
import { CancelTaskUseCase } from './cancel-task.usecase.js';
import { CatalogueLookup } from './catalogue-lookup.js';
import { GetTaskUseCase } from './get-task.usecase.js';
import { ListTasksUseCase } from './list-tasks.usecase.js';
import { SubmitTaskUseCase } from './submit-task.usecase.js';
import { TaskWriter } from './task-writer.js';
import { TasksController } from './tasks.controller.js';

@Module({ controllers: [TasksController], providers: [SubmitTaskUseCase, GetTaskUseCase, ListTasksUseCase, CancelTaskUseCase, CatalogueLookup, TaskWriter], exports: [CatalogueLookup] })
export class TasksModule {}
