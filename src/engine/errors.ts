// Errors the engine raises on purpose. Callers (CLI, host, extension) switch on `code`, never on
// the message; the message is written for the user: it says what was wrong and what was expected.

export type ProbeErrorCode =
  /** The text is empty or only whitespace. */
  | 'EMPTY_TEXT'
  /** The text cannot be probed as it is (NUL characters: a binary file). */
  | 'BAD_TEXT'
  /** The text tokenizes to more tokens than ProbeOptions.maxTokens. */
  | 'TOO_MANY_TOKENS'
  /** No pack at the given folder (or the default pack is not installed). */
  | 'PACK_NOT_FOUND'
  /** The pack is there but its manifest, files or graphs do not follow docs/model-pack.md. */
  | 'BAD_PACK'
  /** The tokenizer's tokens do not spell the text's bytes back (a normalizer changed the text). */
  | 'TOKENIZER_MISMATCH'
  /** opts.signal was aborted. */
  | 'CANCELLED'
  /** A call with arguments outside its contract (e.g. run() with too many ids). */
  | 'BAD_ARGUMENT'
  /** The engine was disposed. */
  | 'DISPOSED'
  /** ONNX Runtime failed while running a graph. */
  | 'RUNTIME';

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isProbeError(e: unknown): e is ProbeError {
  return e instanceof ProbeError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ProbeError');
}
