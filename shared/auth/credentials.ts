import { looksLikeApiKey } from '../domain/api-key.js';
import { AuthenticationError } from '../domain/errors.js';
import type { ApiKeyAuthenticator } from './api-key-authenticator.js';
import type { Principal, TokenVerifier } from './token-verifier.js';

/** The headers a caller may prove who it is with. */
export interface PresentedCredentials {
  /** `x-api-key`: what @ai-sdk/anthropic (and Claude Code's ANTHROPIC_API_KEY) send. */
  apiKey?: string;
  /** `Authorization` (or the configured token header): `Bearer <JWT or API key>`. */
  authorization?: string;
}

export interface CredentialVerifier {
  /** @throws AuthenticationError */
  verify(presented: PresentedCredentials): Promise<Principal>;
}

/**
 * One credential, from `x-api-key` or a bearer token, is either a project API key
 * (by its prefix) or a JWT: the official SDK sends its apiKey as a bearer token.
 */
export function createCredentialVerifier(deps: {
  tokens: TokenVerifier;
  apiKeys: ApiKeyAuthenticator;
}): CredentialVerifier {
  return {
    async verify({ apiKey, authorization }) {
      const credential = apiKey?.trim() || /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      if (!credential) {
        throw new AuthenticationError(
          'send a bearer token (Authorization: Bearer <jwt or API key>) or an x-api-key header',
          'missing',
        );
      }
      return looksLikeApiKey(credential)
        ? deps.apiKeys.verify(credential)
        : deps.tokens.verify(`Bearer ${credential}`);
    },
  };
}
