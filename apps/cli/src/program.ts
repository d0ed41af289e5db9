// The commands of `steward` (commander). Every command takes --json; errors become a message and an exit code
// (see errors.ts and docs/cli.md).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { LoginOptions } from './commands/auth.js';
import type { SkillListOptions } from './commands/catalogue.js';
import type { EventsOptions } from './commands/events.js';
import type { AnswerOptions, InboxOptions } from './commands/inbox.js';
import type { SubmitOptions } from './commands/submit.js';
import type { TaskListOptions } from './commands/tasks.js';
import type { WatchOptions } from './commands/watch.js';
import { Ctx, VERSION } from './context.js';
import { EXIT } from './errors.js';
import type { Io } from './output.js';

// Command modules (and zod with them) load when their command runs, so --help and --version stay quick.
const auth = () => import('./commands/auth.js');
const catalogue = () => import('./commands/catalogue.js');
const events = () => import('./commands/events.js');
const escalations = () => import('./commands/inbox.js');
const submitting = () => import('./commands/submit.js');
const tasking = () => import('./commands/tasks.js');
const watching = () => import('./commands/watch.js');

const int =
  (what: string, min = 1) =>
  (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${what} must be an integer of at least ${min}`);
    return Number(v);
  };
const seconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('give a number of seconds above 0');
  return n;
};
const collect = (v: string, all: string[]): string[] => [...all, v];

interface WithJson {
  json?: boolean;
}

export function buildProgram(ctx: Ctx): Command {
  /** Runs a command's body; any failure is printed (as JSON with --json) and sets the exit code. */
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      // commander passes the positional arguments, then the options, then the command.
      const opts = args.at(-2) as WithJson | undefined;
      try {
        await fn(...args);
      } catch (err) {
        ctx.fail(err, opts?.json === true);
      }
    };
  const json = (c: Command): Command => c.option('--json', 'machine-readable output (JSON) on stdout');

  const program = new Command('steward')
    .description('Steward from the terminal: submit and watch tasks, answer escalations, read the audit stream.')
    .version(VERSION, '-V, --version')
    // Program options only before the command, so that `submit --version 2` is the workflow version.
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => void ctx.io.stdout.write(s),
      writeErr: (s) => void ctx.io.stderr.write(s),
    })
    .addHelpText(
      'after',
      `
Configuration: \`steward login\` saves the gateway URL and API key in $XDG_CONFIG_HOME/steward/config.json
(~/.config/steward/config.json); STEWARD_URL and STEWARD_API_KEY override it.
Exit codes: 0 ok, 1 task failed or request refused, 2 usage, 3 gateway unreachable, 124 watch timeout.`,
    );

  json(
    program
      .command('login')
      .description('check an API key against the gateway and save the URL and key')
      .option('--url <url>', 'the gateway, e.g. http://127.0.0.1:8080 (default: $STEWARD_URL or the saved one)')
      .option('--key <key>', 'the API key (stw_…); "-" reads it from stdin (default: $STEWARD_API_KEY)'),
  ).action(act(async (o: LoginOptions) => (await auth()).login(ctx, o)));

  json(program.command('logout').description('forget the saved URL and key')).action(act(async (o: WithJson) => (await auth()).logout(ctx, o)));

  json(
    program
      .command('submit')
      .description('submit a task: a skill, or a workflow (a skill of that name wins unless --workflow)')
      .argument('<name>', 'skill or workflow name')
      .option('--input <json>', 'the input as a JSON object')
      .option('--input-file <file>', 'the input from a .json or .yaml file')
      .option('-i, --set <key=value>', 'one input field: key=string, key:=json, dots nest (repeatable)', collect, [] as string[])
      .option('--workflow', 'NAME is a workflow')
      .option('--skill', 'NAME is a skill')
      .option('--version <n>', 'pin a workflow version', int('--version'))
      .option('--idempotency-key <key>', 'submit at most once per key (a repeat returns the same task)')
      .option('--session <id>', 'attach the task to a session')
      .option('-w, --watch', 'then watch it until it is final (exit 1 if it fails)')
      .option('--poll', 'with --watch: poll instead of using the live stream')
      .option('--timeout <seconds>', 'with --watch: stop watching after this long (exit 124)', seconds),
  ).action(act(async (name: string, o: SubmitOptions) => (await submitting()).submit(ctx, name, o)));

  json(
    program
      .command('watch')
      .description('show the live progress of a task until it is final; exit 0 completed, 1 failed or cancelled')
      .argument('<taskId>')
      .option('--poll', 'poll instead of using the live stream')
      .option('--interval <ms>', 'poll interval', int('--interval', 50), 500)
      .option('--timeout <seconds>', 'stop watching after this long (exit 124); the task goes on', seconds),
  ).action(act(async (id: string, o: WatchOptions) => (await watching()).watch(ctx, id, o)));

  json(
    program
      .command('inbox')
      .description('answer the escalations waiting for you, one key each (--json: list them)')
      .addOption(new Option('--status <status>', 'which batches').choices(['sent', 'open', 'answered', 'expired']).default('sent'))
      .option('--by <name>', 'who answers (recorded with each answer)')
      .option('-w, --wait', 'when nothing waits, wait for the next escalation (q quits)'),
  ).action(act(async (o: InboxOptions) => (await escalations()).inbox(ctx, o)));

  json(
    program
      .command('answer')
      .description('answer one decision: CHOICE is an option id, its number, or "approve" (the proposal)')
      .argument('[decisionId]')
      .argument('[choice]')
      .option('--batch <batchId>', 'with --all: approve every proposal of a batch')
      .option('--all', 'with --batch')
      .option('--by <name>', 'who answers'),
  ).action(act(async (id: string | undefined, choice: string | undefined, o: AnswerOptions) => (await escalations()).answer(ctx, id, choice, o)));

  const eventsCmd = program.command('events').description('the audit stream: CloudEvents of your tenant, in order');
  json(
    eventsCmd
      .command('tail')
      .description("follow new events (Ctrl-C to stop); with --task: the task's events from its start, until it ends")
      .option('--task <id>', "only this task's events")
      .option('--type <type>', 'only this event type, e.g. task.completed (repeatable)', collect, [] as string[])
      .option('--after <seq>', 'start after this stream sequence instead of now', int('--after', 0))
      .option('--since <time>', 'start at this time (ISO 8601) instead of now')
      .option('--interval <ms>', "poll interval for the tenant's events", int('--interval', 100), 1000),
  ).action(act(async (o: EventsOptions) => (await events()).tailEvents(ctx, o)));
  json(
    eventsCmd
      .command('replay')
      .description('print retained events from the start (or after a sequence), then exit')
      .option('--task <id>', "only this task's events")
      .option('--type <type>', 'only this event type (repeatable)', collect, [] as string[])
      .option('--after <seq>', 'start after this stream sequence', int('--after', 0))
      .option('--since <time>', 'start at this time (ISO 8601)')
      .option('--limit <n>', 'at most this many events', int('--limit')),
  ).action(act(async (o: EventsOptions) => (await events()).replayEvents(ctx, o)));

  const workflows = program.command('workflows').description('workflow definitions: list, show, register');
  json(workflows.command('list', { isDefault: true }).description('the workflows you can run')).action(act(async (o: WithJson) => (await catalogue()).listWorkflows(ctx, o)));
  json(
    workflows
      .command('show')
      .description('one workflow: its versions and definition')
      .argument('<name>')
      .option('--version <n>', 'this version (default: the latest)', int('--version')),
  ).action(act(async (name: string, o: { version?: number } & WithJson) => (await catalogue()).showWorkflow(ctx, name, o)));
  json(workflows.command('register').description('register a definition from a YAML or JSON file (admin)').argument('<file>')).action(
    act(async (file: string, o: WithJson) => (await catalogue()).registerWorkflow(ctx, file, o)),
  );

  const skills = program.command('skills').description('the skill catalogue: list, show');
  json(
    skills
      .command('list', { isDefault: true })
      .description('skills, by name')
      .option('-q, --q <text>', 'words that must all occur in the name or description')
      .option('--category <category>', 'only this category (core, text, dev, data, ops, …)')
      .addOption(new Option('--kind <kind>', 'only code or prompt skills').choices(['code', 'prompt']))
      .option('--limit <n>', 'at most this many', int('--limit')),
  ).action(act(async (o: SkillListOptions) => (await catalogue()).listSkills(ctx, o)));
  json(skills.command('show').description('one skill with its input and output schemas').argument('<name>')).action(act(async (name: string, o: WithJson) => (await catalogue()).showSkill(ctx, name, o)));

  const tasks = program.command('tasks').description('tasks: list, show, cancel');
  json(
    tasks
      .command('list', { isDefault: true })
      .description('recent tasks, newest first')
      .option('--status <status>', 'pending, running, completed, failed, cancelled (comma-separated for several)')
      .addOption(new Option('--kind <kind>', 'skill or workflow tasks').choices(['skill', 'workflow']))
      .option('--skill <name>', 'tasks of this skill')
      .option('--workflow <name>', 'tasks of this workflow')
      .option('--session <id>', 'tasks of this session')
      .option('--limit <n>', 'page size', int('--limit'))
      .option('--cursor <cursor>', 'the next page (as printed)'),
  ).action(act(async (o: TaskListOptions) => (await tasking()).listTasks(ctx, o)));
  json(tasks.command('show').description('one task, with its runs and steps').argument('<taskId>')).action(act(async (id: string, o: WithJson) => (await tasking()).showTask(ctx, id, o)));
  json(tasks.command('cancel').description('cancel a task (its running skills are told to stop)').argument('<taskId>').option('--reason <text>', 'why')).action(
    act(async (id: string, o: { reason?: string } & WithJson) => (await tasking()).cancelTask(ctx, id, o)),
  );

  // Usage errors throw instead of exiting, in every subcommand too.
  const override = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => void ctx.io.stdout.write(s), writeErr: (s) => void ctx.io.stderr.write(s) });
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs `steward` with these arguments (without node and the script); resolves to the exit code. */
export async function run(args: readonly string[], io: Io): Promise<number> {
  const ctx = new Ctx(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; `steward` or `steward events` alone print the help as an error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    ctx.fail(err, args.includes('--json'));
  }
  return ctx.exitCode;
}
