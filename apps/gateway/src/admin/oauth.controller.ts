import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { InvalidArgumentError, parseTokenRequest } from '@conifer/contracts';
import type { FastifyRequest } from 'fastify';
import { OAuthService, type TokenResponse } from './oauth.service.js';
import { ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('oauth')
@Controller('oauth')
export class OAuthController {
  constructor(@Inject(OAuthService) private readonly oauth: OAuthService) {}

  /** Client-credentials grant; JSON or application/x-www-form-urlencoded body. */
  @Doc({ summary: 'OAuth client-credentials grant (JSON or form body)', body: 'TokenRequest', response: 'TokenResponse' })
  @Post('token')
  @HttpCode(200)
  token(@Req() request: FastifyRequest): Promise<TokenResponse> {
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json' && mediaType !== 'application/x-www-form-urlencoded') {
      throw new InvalidArgumentError('Unsupported content type: send application/json or application/x-www-form-urlencoded', 415);
    }
    return this.oauth.issueToken(parseTokenRequest(request.body), request.ip ?? null);
  }
}
