import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '@lead/contracts';

/** What Node's HTTP parser refused, as the service's own error. */
function refusalOf(error: { code?: string }): { status: number; code: ErrorCode; message: string } {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'TIMEOUT', message: 'The request did not arrive in time' };
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'The request headers are too large' };
  }
  return { status: 400, code: 'BAD_REQUEST', message: 'The request is not valid HTTP' };
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request before any route or
 * hook could see it, so the answer is written to the socket here, in the REST error shape with
 * a fresh request id and the security headers every answer has, and the connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = refusalOf(error);
  const requestId = randomUUID();
  const body = JSON.stringify({ code, message, request_id: requestId });
  if (socket.writable) {
    socket.write(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Request-Id: ${requestId}`,
        'X-Content-Type-Options: nosniff',
        'Cache-Control: no-store',
        "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy(error);
}
