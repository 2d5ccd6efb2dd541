import { describe, expect, it } from 'vitest';
import { localCorsOrigins } from '../../local-stack/cors-origins.js';

describe('localCorsOrigins', () => {
  it('answers no CORS unless CORS_ALLOWED_ORIGINS is set', () => {
    expect(localCorsOrigins({})).toEqual([]);
    expect(localCorsOrigins({ CORS_ALLOWED_ORIGINS: '' })).toEqual([]);
  });

  it('reads origins as synth reads corsAllowedOrigins: comma-separated or a JSON array', () => {
    expect(
      localCorsOrigins({ CORS_ALLOWED_ORIGINS: 'http://localhost:5173, https://app.example.com' }),
    ).toEqual(['http://localhost:5173', 'https://app.example.com']);
    expect(localCorsOrigins({ CORS_ALLOWED_ORIGINS: '["http://localhost:5173"]' })).toEqual([
      'http://localhost:5173',
    ]);
  });

  it('refuses an origin no browser would send, naming the variable, as synth does', () => {
    expect(() => localCorsOrigins({ CORS_ALLOWED_ORIGINS: 'localhost:5173' })).toThrow(
      /^CORS_ALLOWED_ORIGINS: an origin is a scheme and a host.* \(got "localhost:5173"\)$/,
    );
    expect(() => localCorsOrigins({ CORS_ALLOWED_ORIGINS: 'http://localhost:5173/' })).toThrow(
      /CORS_ALLOWED_ORIGINS/,
    );
  });
});
