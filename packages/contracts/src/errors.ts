// Conifer's error model: services throw these, one renderer per surface turns them into Pinecone's bodies.
// REST (control plane, admin): {"error":{"code":"NOT_FOUND","message":"..."},"status":404,"message":"..."}
// Data plane (gRPC-style JSON under the index host): {"code":5,"message":"...","details":[]}

export type RestErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** Numeric gRPC status codes used in data-plane error bodies. */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const GRPC_BY_REST: Record<RestErrorCode, number> = {
  INVALID_ARGUMENT: GrpcCode.INVALID_ARGUMENT,
  UNAUTHENTICATED: GrpcCode.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcCode.PERMISSION_DENIED,
  FORBIDDEN: GrpcCode.PERMISSION_DENIED,
  NOT_FOUND: GrpcCode.NOT_FOUND,
  ALREADY_EXISTS: GrpcCode.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcCode.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: GrpcCode.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcCode.UNAVAILABLE,
  INTERNAL: GrpcCode.INTERNAL,
};

export abstract class ConiferError extends Error {
  abstract readonly code: RestErrorCode;
  abstract readonly httpStatus: number;

  get grpcCode(): number {
    return GRPC_BY_REST[this.code];
  }

  /** Extra response headers (Retry-After, WWW-Authenticate…). */
  headers(): Record<string, string> {
    return {};
  }
}

export class InvalidArgumentError extends ConiferError {
  readonly code = 'INVALID_ARGUMENT' as const;
  readonly httpStatus: number;
  /** 400 for a bad argument; 413, 415 and 422 for bodies that are too large, of the wrong type or not JSON. */
  constructor(message: string, httpStatus: 400 | 413 | 415 | 422 = 400) {
    super(message);
    this.httpStatus = httpStatus;
  }
}

export class UnauthenticatedError extends ConiferError {
  readonly code = 'UNAUTHENTICATED' as const;
  readonly httpStatus = 401;
}

export class PermissionDeniedError extends ConiferError {
  readonly code = 'PERMISSION_DENIED' as const;
  readonly httpStatus = 403;
}

/** Deletion protection and similar refusals of an allowed caller. */
export class ForbiddenError extends ConiferError {
  readonly code = 'FORBIDDEN' as const;
  readonly httpStatus = 403;
}

export class NotFoundError extends ConiferError {
  readonly code = 'NOT_FOUND' as const;
  readonly httpStatus = 404;
}

export class AlreadyExistsError extends ConiferError {
  readonly code = 'ALREADY_EXISTS' as const;
  readonly httpStatus = 409;
}

export class FailedPreconditionError extends ConiferError {
  readonly code = 'FAILED_PRECONDITION' as const;
  readonly httpStatus = 412;
}

export class ResourceExhaustedError extends ConiferError {
  readonly code = 'RESOURCE_EXHAUSTED' as const;
  readonly httpStatus = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  override headers(): Record<string, string> {
    return this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(this.retryAfterSeconds))) };
  }
}

export class UnavailableError extends ConiferError {
  readonly code = 'UNAVAILABLE' as const;
  readonly httpStatus = 503;
}

export class InternalError extends ConiferError {
  readonly code = 'INTERNAL' as const;
  readonly httpStatus = 500;
}

export interface RestErrorBody {
  error: { code: RestErrorCode; message: string };
  status: number;
  message: string;
}

export interface GrpcErrorBody {
  code: number;
  message: string;
  details: unknown[];
}

export function restErrorBody(error: ConiferError): RestErrorBody {
  return { error: { code: error.code, message: error.message }, status: error.httpStatus, message: error.message };
}

export function grpcErrorBody(error: ConiferError): GrpcErrorBody {
  return { code: error.grpcCode, message: error.message, details: [] };
}

export function isConiferError(value: unknown): value is ConiferError {
  return value instanceof ConiferError;
}
