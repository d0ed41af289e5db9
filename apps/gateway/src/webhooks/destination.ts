import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

// The SSRF guard of webhook deliveries: unless WEBHOOK_ALLOW_PRIVATE is set, a webhook may only reach public
// addresses. Checked at registration (literal addresses, localhost) and before every delivery (what the name
// resolves to). Redirects are never followed.

const nonPublic = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) nonPublic.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) nonPublic.addSubnet(net, bits, 'ipv6');

/** Whether an IP address is a public unicast address (IPv4-mapped IPv6 addresses are judged by their IPv4 part). */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  return !nonPublic.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A refusal that needs no DNS: not http(s), localhost, or a literal non-public address. */
export function staticRefusal(url: URL, allowPrivate: boolean): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are allowed';
  if (allowPrivate) return undefined;
  const host = hostOf(url).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'localhost is not allowed (WEBHOOK_ALLOW_PRIVATE is off)';
  if (isIP(host) !== 0 && !isPublicAddress(host)) return `${host} is not a public address (WEBHOOK_ALLOW_PRIVATE is off)`;
  return undefined;
}

/** Before a delivery: the refusal (permanent) or a lookup failure (worth a retry), else undefined. */
export async function checkDestination(url: URL, allowPrivate: boolean): Promise<{ reason: string; retryable: boolean } | undefined> {
  const refused = staticRefusal(url, allowPrivate);
  if (refused) return { reason: refused, retryable: false };
  const host = hostOf(url);
  if (allowPrivate || isIP(host) !== 0) return undefined;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    return { reason: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, retryable: true };
  }
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  return bad ? { reason: `${host} resolves to ${bad.address}, not a public address (WEBHOOK_ALLOW_PRIVATE is off)`, retryable: false } : undefined;
}
