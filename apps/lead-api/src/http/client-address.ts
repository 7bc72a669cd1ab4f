import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';

/** `[v6]` or `[v6]:port`, and `v4:port`: how proxies sometimes write an address with its port. */
const BRACKETED = /^\[([^\]]+)\](?::\d+)?$/;
const V4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/;
/** Four decimal parts, possibly zero-padded (`192.0.2.077` is 192.0.2.77, not octal). */
const V4_PADDED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * One spelling per address, so that a budget or an audit row keyed by it cannot be split by
 * writing the same client differently: brackets and ports dropped, IPv4 parts as plain decimals,
 * IPv4-mapped IPv6 as the IPv4 address, IPv6 in its RFC 5952 form. Null when it is no address.
 */
export function canonicalAddress(raw: string): string | null {
  let text = raw.trim();
  text = BRACKETED.exec(text)?.[1] ?? V4_WITH_PORT.exec(text)?.[1] ?? text;
  const padded = V4_PADDED.exec(text);
  if (padded) {
    const parts = padded.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? parts.join('.') : null;
  }
  if (!ipaddr.IPv6.isValid(text)) return null;
  return ipaddr.process(text).toString();
}

/**
 * The client's canonical address: what Fastify derives under `TRUST_PROXY`, or, when a trusted
 * proxy forwarded something that is no address, the proxy itself (the socket's peer).
 */
export function clientAddressOf(req: FastifyRequest): string {
  return canonicalAddress(req.ip) ?? canonicalAddress(req.socket.remoteAddress ?? '') ?? 'unknown';
}
