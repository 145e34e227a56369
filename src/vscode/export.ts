// The per-token table as CSV (one row per token, both directions), and the result as JSON.
import type { ProbeResult, TokenScore } from '../engine/schema';

const DIR_COLS = ['surprisal_bits', 'rank', 'entropy_bits', 'top1', 'top1_prob'];
export const CSV_HEADER = ['index', 'start', 'end', 'token_id', 'text', ...DIR_COLS.map((c) => `fw_${c}`), ...DIR_COLS.map((c) => `bw_${c}`)];

function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : v;
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function dirCells(s: TokenScore | null): (string | number | null)[] {
  if (!s) return [null, null, null, null, null];
  return [s.surprisalBits, s.rank, s.entropyBits, s.top[0]?.text ?? null, s.top[0]?.prob ?? null];
}

export function toCsv(r: ProbeResult): string {
  const lines = [CSV_HEADER.join(',')];
  for (const t of r.tokens) {
    lines.push([t.index, t.start, t.end, t.id, t.text, ...dirCells(t.forward), ...dirCells(t.backward)].map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function toJson(r: ProbeResult): string {
  return JSON.stringify(r, null, 1) + '\n';
}
