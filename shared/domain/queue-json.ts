/**
 * `value` as JSON a queue takes as it is, with `\u` escapes for what it would refuse: SQS
 * refuses the noncharacters U+FFFE and U+FFFF (text may hold them), and an SNS message
 * delivered to an SQS subscriber meets the same rule; the SQS emulator (fauxqs 2.4) also
 * refuses every character outside the Basic Multilingual Plane (emoji…), which SQS
 * accepts. The escapes parse back to the same text. (`JSON.stringify` escapes control
 * characters and lone surrogates itself.)
 */
export function queueJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u{10000}-\u{10FFFF}\uFFFE\uFFFF]/gu, (character) =>
    Array.from(
      { length: character.length },
      (_, index) => `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`,
    ).join(''),
  );
}
