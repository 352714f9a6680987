import type { Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { answerClientError, frameworkError } from './client-error.js';
import { grpcErrorBody } from './errors.js';

function fakeSocket(answerStarted = false) {
  const socket = {
    writable: true,
    destroyed: false,
    written: [] as string[],
    _httpMessage: answerStarted ? { headersSent: true } : null,
    write(chunk: string) {
      socket.written.push(chunk);
      return true;
    },
    destroy() {
      socket.destroyed = true;
    },
  };
  return socket;
}

const parserError = (code: string, packet = 'GET /x HTTP/1.1\r\n') => Object.assign(new Error(code), { code, rawPacket: Buffer.from(packet) });

describe('answerClientError', () => {
  it('answers 400, 408 or 431 with the status line and the rendered body, then closes', () => {
    for (const [code, status, reason] of [
      ['HPE_INVALID_METHOD', 400, 'Bad Request'],
      ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'Request Timeout'],
      ['HPE_HEADER_OVERFLOW', 431, 'Request Header Fields Too Large'],
    ] as const) {
      const socket = fakeSocket();
      answerClientError(parserError(code), socket as unknown as Socket, (error, given, line) => ({ ...grpcErrorBody(error), given, line }));
      expect(socket.written).toHaveLength(1);
      const [head, body] = socket.written[0]!.split('\r\n\r\n') as [string, string];
      expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${reason}`);
      expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
      expect(JSON.parse(body)).toMatchObject({ code: 3, given: status, line: 'GET /x HTTP/1.1' });
      expect(socket.destroyed).toBe(true);
    }
  });

  it('writes nothing after an answer has started, or to a peer that is gone', () => {
    const started = fakeSocket(true);
    answerClientError(parserError('HPE_INVALID_METHOD'), started as unknown as Socket, grpcErrorBody);
    expect(started.written).toEqual([]);
    expect(started.destroyed).toBe(true);
    const reset = fakeSocket();
    answerClientError(parserError('ECONNRESET'), reset as unknown as Socket, grpcErrorBody);
    expect(reset.written).toEqual([]);
  });
});

describe('frameworkError', () => {
  it('says which part of the URL is wrong', () => {
    expect(frameworkError('FST_ERR_MAX_PARAM_LENGTH').message).toMatch(/path is too long/);
    expect(frameworkError('FST_ERR_BAD_URL').httpStatus).toBe(400);
  });
});
