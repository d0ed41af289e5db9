import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, maskKey, normaliseUrl, readConfig, removeConfig, resolveConfig, writeConfig } from './config.js';

describe('config', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/ada' })).toBe('/x/cfg/steward/config.json');
    expect(configPath({ HOME: '/home/ada' })).toBe('/home/ada/.config/steward/config.json');
    expect(configPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/ada' })).toBe('/home/ada/.config/steward/config.json');
  });

  it('is written readable by its owner only, read back, and removed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-cli-'));
    const path = join(dir, 'steward', 'config.json');
    await writeConfig(path, { url: 'http://gw:8080', apiKey: 'stw_a_b' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'steward'))).mode & 0o777).toBe(0o700);
    expect(await readConfig(path)).toEqual({ url: 'http://gw:8080', apiKey: 'stw_a_b' });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ url: 'http://gw:8080' });
    expect(await removeConfig(path)).toBe(true);
    expect(await removeConfig(path)).toBe(false);
    expect(await readConfig(path)).toBeUndefined();
  });

  it('lets STEWARD_URL and STEWARD_API_KEY override the file, each on its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-cli-'));
    await writeConfig(join(dir, 'steward', 'config.json'), { url: 'http://saved:1', apiKey: 'stw_saved' });
    expect(await resolveConfig({ XDG_CONFIG_HOME: dir })).toMatchObject({ url: 'http://saved:1', apiKey: 'stw_saved', source: { url: 'config', apiKey: 'config' } });
    expect(await resolveConfig({ XDG_CONFIG_HOME: dir, STEWARD_API_KEY: 'stw_env' })).toMatchObject({ url: 'http://saved:1', apiKey: 'stw_env', source: { url: 'config', apiKey: 'env' } });
    expect(await resolveConfig({ XDG_CONFIG_HOME: dir, STEWARD_URL: 'http://env:2/' })).toMatchObject({ url: 'http://env:2' });
  });

  it('says what to do when nothing is configured or the file is broken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-cli-'));
    await expect(resolveConfig({ XDG_CONFIG_HOME: dir })).rejects.toMatchObject({ message: 'no gateway URL configured', hint: expect.stringContaining('steward login') as string });
    await writeFile(join(dir, 'broken.json'), '{');
    await expect(readConfig(join(dir, 'broken.json'))).rejects.toThrow(/not valid JSON/);
  });

  it('normalises URLs and hides the secret of a key', () => {
    expect(normaliseUrl('127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(normaliseUrl('https://steward.example.com/api/')).toBe('https://steward.example.com/api');
    expect(() => normaliseUrl('ftp://x')).toThrow(/http or https/);
    expect(() => normaliseUrl('http://x/?a=1')).toThrow(/no query/);
    expect(maskKey('stw_abcdefghijkl_secretsecret')).toBe('stw_abcdefghijkl_…');
    expect(maskKey('other')).toBe('othe…');
  });
});
