import { describe, expect, it } from '@jest/globals';
import {
  grpcErrorBody,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  restErrorBody,
} from './errors.js';

describe('error bodies', () => {
  it('renders the REST shape with a top-level message', () => {
    expect(restErrorBody(new NotFoundError('Index "x" not found'))).toEqual({
      error: { code: 'NOT_FOUND', message: 'Index "x" not found' },
      status: 404,
      message: 'Index "x" not found',
    });
  });

  it('renders the gRPC shape with numeric codes', () => {
    expect(grpcErrorBody(new InvalidArgumentError('bad', 422))).toEqual({ code: 3, message: 'bad', details: [] });
    expect(new InvalidArgumentError('bad', 422).httpStatus).toBe(422);
  });

  it('gives Retry-After in whole seconds, at least 1', () => {
    expect(new ResourceExhaustedError('slow down', 0.2).headers()).toEqual({ 'retry-after': '1' });
    expect(new ResourceExhaustedError('slow down').headers()).toEqual({});
  });
});
