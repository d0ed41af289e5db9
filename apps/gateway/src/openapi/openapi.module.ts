import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller.js';

/** The API description: GET /openapi.json and the /docs page, both public. */
@Module({ controllers: [OpenApiController] })
export class OpenApiModule {}
