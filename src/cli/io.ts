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

/** Offset of the first byte that starts an invalid UTF-8 sequence (Unicode Table 3-7), or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    let n = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // surrogates are not UTF-8
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      const [l, h] = k === 1 ? [lo, hi] : [0x80, 0xbf];
      if (c < l || c > h) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** Decodes UTF-8 strictly: invalid bytes are a bad-input error that says where, not silent U+FFFD. */
export function decodeUtf8(buf: Uint8Array, what: string): string {
  const bad = firstInvalidUtf8(buf);
  if (bad >= 0) {
    throw new CliError(EXIT.BAD_TEXT, `${what} is not valid UTF-8 (invalid byte 0x${buf[bad].toString(16)} at offset ${bad}); LM Probe reads UTF-8 text`);
  }
  // the default TextDecoder drops a leading byte order mark
  return new TextDecoder('utf-8').decode(buf);
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

/**
 * A FILE's text, refused (exit 3, naming the file) when it is empty, only whitespace or holds NUL
 * characters, as the engine refuses such a text: for the commands that hand FILEs to the analyses,
 * which read them without that check, so that every command says "bad text" the same way.
 */
export function readCheckedText(file: string): string {
  const text = readTextFile(file);
  if (text.length === 0) throw new CliError(EXIT.BAD_TEXT, `${file}: the text is empty: nothing to probe`);
  if (text.trim().length === 0) throw new CliError(EXIT.BAD_TEXT, `${file}: the text is only whitespace: nothing to probe`);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw new CliError(EXIT.BAD_TEXT, `${file}: the text holds a NUL character (U+0000) at offset ${nul}: it looks like binary data, not text`);
  return text;
}
