/** What the process writes to `streams` from now until `restore`, still passed through. */
export function captureOutput(streams: NodeJS.WriteStream[]) {
  const chunks: string[] = [];
  const writes = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      chunks.push(String(chunk));
      return writes[i]!(chunk, ...rest);
    }) as typeof stream.write;
  });
  return {
    text: () => chunks.join(''),
    /** The JSON lines written (log lines, metrics), parsed. */
    records: () =>
      chunks
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () =>
      streams.forEach((stream, i) => {
        stream.write = writes[i]!;
      }),
  };
}
