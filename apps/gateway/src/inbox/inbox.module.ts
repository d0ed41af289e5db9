import { Module } from '@nestjs/common';
import { InboxController } from './inbox.controller.js';

/** The escalation inbox page at /inbox (public files; its data comes from the authenticated API). */
@Module({ controllers: [InboxController] })
export class InboxModule {}
