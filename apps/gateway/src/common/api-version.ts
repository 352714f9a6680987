// API-version negotiation for the control plane, in one place: `@RequestApiVersion()` gives a route the version
// of its request (X-Pinecone-Api-Version; missing → the newest), parsed by the contracts' parseApiVersion; an
// unknown version is a 400 naming the supported ones. The data plane's shapes are the same in every version
// the clients send, so its routes do not read it.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { API_VERSION_HEADER, negotiateApiVersion, type RequestedApiVersion } from '@conifer/contracts';

function apiVersionOf(headers: Record<string, string | string[] | undefined>): RequestedApiVersion {
  return negotiateApiVersion(headers[API_VERSION_HEADER]);
}

export const RequestApiVersion = createParamDecorator((_data: unknown, context: ExecutionContext): RequestedApiVersion => {
  const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
  return apiVersionOf(request.headers);
});
