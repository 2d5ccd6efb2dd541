/**
 * What the stack puts in the Anthropic API key's secret until the operator replaces it:
 * not a secret, and recognizable, so the functions and /health say the key is unset
 * instead of sending a random string to Anthropic.
 */
export const ANTHROPIC_API_KEY_PLACEHOLDER = 'replace-me-with-your-anthropic-api-key';
