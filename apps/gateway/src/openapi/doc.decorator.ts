// One line of OpenAPI documentation per route: request body, answer and query parameters, as references to the
// schemas in openapi/schemas.ts. Purely descriptive: nothing here changes how a route behaves.
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { schemaRef, type SchemaName } from './schemas.js';

export interface DocOptions {
  readonly summary: string;
  /** Component schema of the JSON body, if the route takes one. */
  readonly body?: SchemaName;
  readonly bodyRequired?: boolean;
  /** Component schema of the success answer; omitted: the answer has no body. */
  readonly response?: SchemaName;
  readonly status?: number;
  readonly query?: readonly { name: string; description: string; type?: 'string' | 'integer' | 'boolean'; required?: boolean }[];
}

const ERROR_STATUSES = [400, 401, 403, 404] as const;

export function Doc(options: DocOptions): MethodDecorator {
  const status = options.status ?? 200;
  const decorators: (MethodDecorator | ClassDecorator)[] = [ApiOperation({ summary: options.summary })];
  if (options.body) {
    decorators.push(ApiBody({ required: options.bodyRequired ?? true, schema: schemaRef(options.body) }));
  }
  decorators.push(
    options.response
      ? ApiResponse({ status, description: 'Success', schema: schemaRef(options.response) })
      : ApiResponse({ status, description: 'Success (no body)' }),
  );
  for (const errorStatus of ERROR_STATUSES) {
    decorators.push(ApiResponse({ status: errorStatus, description: 'Error in Pinecone\'s REST shape', schema: schemaRef('Error') }));
  }
  for (const query of options.query ?? []) {
    decorators.push(ApiQuery({ name: query.name, description: query.description, required: query.required ?? false, type: query.type ?? 'string' }));
  }
  return applyDecorators(...decorators) as MethodDecorator;
}
