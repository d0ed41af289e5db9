import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, verifyWebhook } from './signature.js';

describe('Standard Webhooks signatures', () => {
  it("matches the scheme's published example", () => {
    // The test vector of the Standard Webhooks reference libraries.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own signatures and refuses a changed body, another secret, an old timestamp', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = signWebhook(secret, 'evt-1', ts, '{"a":1}');
    expect(verifyWebhook(secret, { id: 'evt-1', timestamp: ts, signature }, '{"a":1}')).toBe(true);
    expect(verifyWebhook(secret, { id: 'evt-1', timestamp: ts, signature: `v1,bm9wZQ== ${signature}` }, '{"a":1}')).toBe(true);
    expect(verifyWebhook(secret, { id: 'evt-1', timestamp: ts, signature }, '{"a":2}')).toBe(false);
    expect(verifyWebhook(newWebhookSecret(), { id: 'evt-1', timestamp: ts, signature }, '{"a":1}')).toBe(false);
    expect(verifyWebhook(secret, { id: 'evt-2', timestamp: ts, signature }, '{"a":1}')).toBe(false);
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect(verifyWebhook(secret, { id: 'evt-1', timestamp: old, signature: signWebhook(secret, 'evt-1', old, '{}') }, '{}')).toBe(false);
  });
});
