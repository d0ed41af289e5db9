import { Module } from '@nestjs/common';
import { ContextPurger } from './context-purger.js';
import { ContextUseCase } from './context.usecase.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsUseCase } from './sessions.usecase.js';

/** Sessions (active ⇄ paused → closed) and their context entries (relevance, access counts, expiry). */
@Module({ controllers: [SessionsController], providers: [SessionsUseCase, ContextUseCase, ContextPurger], exports: [ContextPurger] })
export class SessionsModule {}
