// The per-token table as CSV (one row per token; both directions, or only forward for a model
// without a backward twin: no empty backward columns), and the result as JSON.
import type { ProbeResult, TokenScore } from '../engine/schema';
import { hasBackward } from './forwardOnly';

const DIR_COLS = ['surprisal_bits', 'rank', 'entropy_bits', 'top1', 'top1_prob'];
export const CSV_HEADER_FORWARD = ['index', 'start', 'end', 'token_id', 'text', ...DIR_COLS.map((c) => `fw_${c}`)];
export const CSV_HEADER = [...CSV_HEADER_FORWARD, ...DIR_COLS.map((c) => `bw_${c}`)];

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
  const bw = hasBackward(r);
  const lines = [(bw ? CSV_HEADER : CSV_HEADER_FORWARD).join(',')];
  for (const t of r.tokens) {
    const row = [t.index, t.start, t.end, t.id, t.text, ...dirCells(t.forward), ...(bw ? dirCells(t.backward) : [])];
    lines.push(row.map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function toJson(r: ProbeResult): string {
  return JSON.stringify(r, null, 1) + '\n';
}
