import { describe, expect, it } from '@jest/globals';
import { isBackendUnavailable, toConiferError } from './error.filter.js';

describe('isBackendUnavailable', () => {
  it('recognises a database that dropped the connection or cannot be reached (503, not 500)', () => {
    // As thrown by Prisma 7 with the pg adapter when Postgres goes away mid-flight.
    const closed = Object.assign(new Error('Server has closed the connection.'), {
      name: 'PrismaClientKnownRequestError',
      code: 'P1017',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } } },
    });
    expect(isBackendUnavailable(closed)).toBe(true);
    expect(isBackendUnavailable(Object.assign(new Error('x'), { code: 'P1001' }))).toBe(true);
    expect(isBackendUnavailable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isBackendUnavailable(Object.assign(new Error('x'), { name: 'PrismaClientInitializationError' }))).toBe(true);
    expect(isBackendUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isBackendUnavailable({ meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } })).toBe(true);
  });

  it('leaves real bugs and query errors alone', () => {
    expect(isBackendUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isBackendUnavailable(Object.assign(new Error('unique'), { code: 'P2002' }))).toBe(false);
    expect(isBackendUnavailable(null)).toBe(false);
    expect(toConiferError(new TypeError('x'))).toBeUndefined();
  });
});
