import { Module } from '@nestjs/common';
import { KeysController } from './keys.controller.js';
import { KeysUseCase } from './keys.usecase.js';

@Module({ controllers: [KeysController], providers: [KeysUseCase] })
export class KeysModule {}
