import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('logger redaction', () => {
  it('censors secret-looking fields at the top of a line and one object down, and keeps the rest', () => {
    const lines: string[] = [];
    const log = createLogger('test', 'debug', { write: (s: string) => void lines.push(s) });
    const secret = 'stw_abcdefghijkl_s3cr3t';
    log.info({ authorization: `Bearer ${secret}`, apiKey: secret, key: secret, secret, password: secret, token: secret, keyId: 'k1' }, 'top');
    log.debug({ req: { headers: { authorization: `Bearer ${secret}` }, authorization: secret }, body: { key: secret, secret, name: 'ci' } }, 'nested');
    log.warn({ headers: { authorization: secret }, config: { DATABASE_URL: `postgresql://u:${secret}@db/x`, REDIS_URL: `redis://:${secret}@r` } }, 'config');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).not.toContain(secret);
    const [top, nested] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(top).toMatchObject({ authorization: '***', apiKey: '***', key: '***', secret: '***', keyId: 'k1', msg: 'top' });
    expect(nested).toMatchObject({ req: { headers: { authorization: '***' } }, body: { key: '***', name: 'ci' } });
  });
});
