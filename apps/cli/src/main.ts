// Entry point of `steward` (bin/steward.js loads this from dist/, or from source through tsx).
import { run } from './program.js';

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
// Exit now: an idle keep-alive socket or a paused stdin must not hold the process (stdout and stderr are
// synchronous for files and pipes on POSIX, so nothing written is lost).
process.exit(code);
