// What a running probe says it is doing, and the refusal of a selection too long to send. Pure
// (no 'vscode'), so that the wording is unit-tested against real engine progress.

const n = (x: number) => x.toLocaleString('en-US');

/**
 * The progress line for the engine host's stages: 'loading' (the model is being opened),
 * 'tokenizing', then 'forward' and 'backward' with done/total counting windows of both directions.
 */
export function progressText(
  p: { done: number; total: number; stage: string },
  o: { painted: number; tokenCount: number; directions: 1 | 2 },
): string {
  switch (p.stage) {
    case 'loading':
      return 'loading the model…';
    case 'tokenizing':
      return `tokenizing ${n(p.total)} characters…`;
    case 'forward':
    case 'backward': {
      const perDir = Math.max(1, Math.round(p.total / o.directions));
      const done = p.stage === 'backward' ? p.done - perDir : p.done;
      const shown = o.tokenCount ? `, ${n(o.painted)} of ${n(o.tokenCount)} tokens painted` : '';
      return `${p.stage} model: window ${n(Math.max(0, done))} of ${n(perDir)}${shown}`;
    }
    default:
      return `${p.stage} ${p.done}/${p.total}`;
  }
}

/**
 * Why a text is refused before it is sent, or null: ceil(UTF-8 bytes / the longest token's bytes)
 * is a lower bound on its token count, so a text whose bound already passes the limit cannot fit.
 */
export function tooManyTokens(text: string, maxTokenBytes: number, maxTokens: number): string | null {
  if (!(maxTokenBytes > 0)) return null;
  const bytes = Buffer.byteLength(text, 'utf8');
  const atLeast = Math.ceil(bytes / maxTokenBytes);
  if (atLeast <= maxTokens) return null;
  return `the selection is at least ${n(atLeast)} tokens (${n(bytes)} bytes; this model's longest token is ${maxTokenBytes} bytes), over lmProbe.maxTokens (${n(maxTokens)}): select less text or raise the limit.`;
}
