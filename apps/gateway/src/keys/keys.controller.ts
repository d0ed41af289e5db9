import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { CreateKeyBody, KeyId, type KeyView } from './key.dto.js';
import { KeysUseCase } from './keys.usecase.js';

@Controller('v1/keys')
@RequireScope('admin')
export class KeysController {
  constructor(@Inject(KeysUseCase) private readonly keys: KeysUseCase) {}

  @Post()
  @HttpCode(201)
  async create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<KeyView & { key: string }> {
    return this.keys.create(tenantOf(req), parseOr400(CreateKeyBody, body ?? {}, 'request body'));
  }

  @Get()
  async list(@Req() req: FastifyRequest): Promise<{ keys: KeyView[] }> {
    return this.keys.list(tenantOf(req));
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Req() req: FastifyRequest, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(tenantOf(req), parseOr400(KeyId, id, 'key id'));
  }
}
