#!/usr/bin/env node
// Launcher: the CLI helper replaces this.
console.error('steward CLI not built yet');
process.exit(1);
