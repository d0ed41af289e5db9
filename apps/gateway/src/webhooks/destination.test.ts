import { describe, expect, it } from 'vitest';
import { checkDestination, isPublicAddress, staticRefusal } from './destination.js';

describe('webhook destinations (SSRF guard)', () => {
  it('tells public from loopback, private, link-local, CGNAT, multicast and mapped addresses', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '93.184.216.34']) expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
  });

  it('refuses non-http schemes always, and private hosts unless allowed', () => {
    expect(staticRefusal(new URL('ftp://example.com/x'), true)).toMatch(/http/);
    expect(staticRefusal(new URL('file:///etc/passwd'), true)).toMatch(/http/);
    for (const u of ['http://127.0.0.1:8080/', 'http://localhost/', 'http://api.localhost/', 'http://[::1]/', 'http://169.254.169.254/latest', 'http://0x7f.1/', 'http://2130706433/']) {
      expect(staticRefusal(new URL(u), false), u).toBeDefined();
      expect(staticRefusal(new URL(u), true), u).toBeUndefined();
    }
    expect(staticRefusal(new URL('https://hooks.example.com/steward'), false)).toBeUndefined();
  });

  it('checks what a name resolves to before a delivery', async () => {
    expect(await checkDestination(new URL('http://localhost:1/'), false)).toMatchObject({ retryable: false });
    expect(await checkDestination(new URL('http://localhost:1/'), true)).toBeUndefined();
    expect(await checkDestination(new URL('http://8.8.8.8/'), false)).toBeUndefined();
    // A name that does not resolve is worth retrying (DNS may be down); `.invalid` never resolves.
    expect(await checkDestination(new URL('http://nothing.invalid/'), false)).toMatchObject({ retryable: true });
  });
});
