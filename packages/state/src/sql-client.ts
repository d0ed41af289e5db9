// Raw SQL on node-postgres, for the hot transactions. Prisma's interactive transaction costs about 1 ms per
// transaction more than the same statements sent by node-postgres (it routes each through its query engine, BEGIN
// and COMMIT included); code that only ever runs raw SQL can take this path and keep Prisma's tagged templates.
import type pg from 'pg';
import { createRequire } from 'node:module';
import { Prisma } from './generated/prisma/client.js';

/** node-postgres' own parameter serialiser (exported by the package as pg/lib/utils; @types/pg does not declare it). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as { prepareValue: (value: unknown) => string | Buffer | null };

/**
 * What raw SQL needs of a database handle: Prisma's `$queryRaw` and `$executeRaw` (tagged templates or `Prisma.sql`
 * fragments). A Prisma client or transaction client is one, and so is `PgSqlClient`, so code written against it runs
 * on either. Rows come back as node-postgres parses them — timestamptz as Date, json as values — except that bigint
 * and numeric columns arrive as strings (Prisma gives bigint and Decimal): cast counts to int in the SQL.
 */
export interface SqlClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<number>;
}

/** Names a statement for node-postgres' prepared-statement cache ('' = unnamed); see `statementNames`. */
export type StatementNamer = (query: { sql: string }) => string;

/**
 * A `SqlClient` over one node-postgres connection, with statements named by `name`. With `begin`, the connection is
 * not in a transaction yet: the first statement goes as `BEGIN; <statement>` in one round trip (the simple protocol,
 * its values inlined as quoted literals — what an untyped parameter is to PostgreSQL), the rest as usual.
 */
export class PgSqlClient implements SqlClient {
  /** Whether BEGIN has been sent (with `begin`, on the first statement). */
  private sentBegin: boolean;
  /** Statements held back by `defer`, sent (together, in order) before the next one or with the COMMIT. */
  private pending: Prisma.Sql[] = [];

  constructor(
    private readonly client: pg.ClientBase,
    private readonly name: StatementNamer,
    opts: { begin?: boolean } = {},
  ) {
    this.sentBegin = opts.begin !== true;
  }

  async $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T> {
    return (await this.send(query, values)).rows as T;
  }

  async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number> {
    return (await this.send(query, values)).rowCount ?? 0;
  }

  /**
   * Holds back a statement whose result nobody reads until the next statement or the COMMIT, whichever comes first,
   * so that the transaction's last ones travel with the COMMIT (`commit`): one round trip for all. Order is kept:
   * deferred statements go together, in the order deferred, before a later statement. A failure surfaces there, and
   * the transaction rolls back as for any failure.
   */
  defer(sql: Prisma.Sql): Promise<void> {
    this.pending.push(sql);
    return Promise.resolve();
  }

  /** COMMIT, with the deferred statements before it in the same round trip (`<a>; <b>; COMMIT`, simple protocol). */
  async commit(): Promise<void> {
    const held = this.takePending();
    if (held === undefined) {
      if (this.sentBegin) await this.client.query('COMMIT');
      return;
    }
    // A failing statement aborts the transaction and PostgreSQL skips the COMMIT after it. Without BEGIN before them,
    // the statements of one simple query are one transaction by themselves (all commit, or none).
    await this.client.query(this.sentBegin ? `${held}; COMMIT` : held);
    this.sentBegin = true;
  }

  /** The deferred statements as one simple query (values inlined), and none deferred any more. */
  private takePending(): string | undefined {
    if (this.pending.length === 0) return undefined;
    const text = this.pending.map((sql) => this.inline(sql)).join('; ');
    this.pending = [];
    return text;
  }

  private async sendPending(): Promise<void> {
    const held = this.takePending();
    if (held === undefined) return;
    const begin = !this.sentBegin;
    this.sentBegin = true; // a failure after BEGIN leaves a transaction to roll back
    await this.client.query(begin ? `BEGIN; ${held}` : held);
  }

  private async send(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Promise<pg.QueryResult> {
    await this.sendPending();
    const sql = query instanceof Prisma.Sql ? query : new Prisma.Sql(query, values);
    if (!this.sentBegin) {
      this.sentBegin = true;
      const results = (await this.client.query(`BEGIN; ${this.inline(sql)}`)) as unknown as pg.QueryResult[];
      return results[1]!;
    }
    const text = sql.text;
    const name = this.name({ sql: text });
    return this.client.query({ text, values: sql.values, ...(name === '' ? {} : { name }) });
  }

  /** Whether a transaction may be open on the connection (BEGIN sent): what a failure must roll back. */
  get begun(): boolean {
    return this.sentBegin;
  }

  /** The statement with its values as literals, quoted as node-postgres would send them as text parameters. */
  private inline(sql: Prisma.Sql): string {
    let text = sql.strings[0]!;
    sql.values.forEach((v, i) => {
      const param = prepareValue(v);
      text += (param === null ? 'NULL' : this.client.escapeLiteral(typeof param === 'string' ? param : param.toString('utf8'))) + sql.strings[i + 1]!;
    });
    return text;
  }
}

/**
 * BEGIN (with the first statement), `fn` with the connection as a `SqlClient`, COMMIT; ROLLBACK if `fn` or the COMMIT
 * throws. A connection whose ROLLBACK fails is closed rather than returned to the pool, so the next user never
 * inherits a broken transaction.
 */
export async function pgTransaction<T>(pool: pg.Pool, name: StatementNamer, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const tx = new PgSqlClient(client, name, { begin: true });
  let broken: Error | undefined;
  try {
    const value = await fn(tx);
    await tx.commit();
    return value;
  } catch (err) {
    if (tx.begun) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
