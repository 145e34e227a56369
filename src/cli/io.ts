// Reading the text to probe, and the CLI's error type with its exit code.
import { readFileSync, statSync } from 'node:fs';

/** Exit codes a script can rely on (also in --help and the README). */
export const EXIT = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
  BAD_TEXT: 3,
  BAD_PACK: 4,
  CANCELLED: 130,
} as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Decodes UTF-8 strictly: invalid bytes are a bad-input error that says where, not silent U+FFFD. */
export function decodeUtf8(buf: Uint8Array, what: string): string {
  try {
    const s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
    return s;
  } catch {
    // find the first bad byte for the message
    let at = 0;
    for (let lo = 0, hi = buf.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, mid), { stream: true });
        lo = mid + 1;
        at = mid;
      } catch {
        hi = mid;
      }
    }
    throw new CliError(EXIT.BAD_TEXT, `${what} is not valid UTF-8 (first invalid byte near offset ${at}); LM Probe reads UTF-8 text`);
  }
}

export function readTextFile(file: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new CliError(EXIT.USAGE, `${file} is a folder, not a text file`);
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT.USAGE, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size > MAX_FILE_BYTES) throw new CliError(EXIT.BAD_TEXT, `${file} is ${size} bytes; the limit is ${MAX_FILE_BYTES} bytes`);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `cannot read ${file}: ${(e as Error).message}`);
  }
  return decodeUtf8(buf, file);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    n += (c as Buffer).length;
    if (n > MAX_FILE_BYTES) throw new CliError(EXIT.BAD_TEXT, `standard input is longer than ${MAX_FILE_BYTES} bytes`);
  }
  return decodeUtf8(Buffer.concat(chunks), 'standard input');
}
