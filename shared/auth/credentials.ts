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
        // A header sent twice arrives joined with a comma: two tokens are no token.
        throw new AuthenticationError(
          authorization?.trim()
            ? 'the Authorization header holds no single bearer token: send Authorization: Bearer <jwt or API key>, or an x-api-key header'
            : 'send a bearer token (Authorization: Bearer <jwt or API key>) or an x-api-key header',
          'missing',
        );
      }
      if (looksLikeApiKey(credential)) return deps.apiKeys.verify(credential);
      if (!looksLikeJwt(credential)) throw notOurs(credential);
      return deps.tokens.verify(`Bearer ${credential}`);
    },
  };
}

/** Three base64url parts: a JWS in compact form. */
function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential);
}

/** Says what was sent instead, never echoing it: the likely mistake is a real secret elsewhere. */
function notOurs(credential: string): AuthenticationError {
  const what = credential.startsWith('sk-ant-')
    ? 'an Anthropic API key, which this gateway does not take from callers'
    : 'neither an API key of this gateway nor a JWT';
  return new AuthenticationError(
    `the credential is ${what}: send an API key (csk_…) or a token it accepts`,
    'invalid',
  );
}
