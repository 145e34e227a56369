// The panel's "most surprising" list ranks by the measure the heatmap colours, so that the rows
// are the tokens the editor shows hottest. Pure: webview/main.ts renders it, tests read it.
import type { ProbeToken } from '../../engine/schema';
import type { Measure } from '../heatmap';

export interface Ranking {
  /** Token indices, highest score first (ties: earlier token first). */
  order: number[];
  /** Column header and its hover: what the score is, with its unit. */
  column: string;
  columnTitle: string;
  /** "by forward surprisal": how the list is ordered. */
  by: string;
}

/** The score a measure ranks tokens by (higher = hotter), or null for a token it cannot score. */
export function scoreOf(t: ProbeToken, measure: Measure): number | null {
  switch (measure) {
    case 'backward':
      return t.backward ? t.backward.surprisalBits : null;
    case 'difference':
      return t.backward ? Math.abs(t.backward.surprisalBits - t.forward.surprisalBits) : null;
    case 'rank':
      return t.forward.rank;
    case 'forward':
    case 'off':
      return t.forward.surprisalBits;
  }
}

const DESCRIBE: Record<Measure, Omit<Ranking, 'order'>> = {
  forward: { by: 'by forward surprisal', column: 'fw bits', columnTitle: 'Forward surprisal: −log₂ p(token | text before it), in bits' },
  backward: { by: 'by backward surprisal', column: 'bw bits', columnTitle: 'Backward surprisal: −log₂ q(token | text after it), in bits' },
  difference: {
    by: 'by |backward − forward|',
    column: 'bw − fw',
    columnTitle: 'Backward minus forward surprisal, in bits: positive = the backward model finds the token harder, negative = easier',
  },
  rank: { by: 'by forward rank', column: 'rank', columnTitle: "The token's rank among the forward model's predictions (1 = its top guess)" },
  off: { by: 'by forward surprisal (heatmap off)', column: 'fw bits', columnTitle: 'Forward surprisal: −log₂ p(token | text before it), in bits' },
};

/** The `count` tokens the measure scores highest (tokens it cannot score are left out). */
export function rankByMeasure(tokens: readonly ProbeToken[], measure: Measure, count: number): Ranking {
  const scored: { i: number; s: number }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const s = scoreOf(tokens[i], measure);
    if (s !== null && Number.isFinite(s)) scored.push({ i, s });
  }
  scored.sort((a, b) => b.s - a.s || a.i - b.i);
  return { order: scored.slice(0, Math.max(0, count)).map((x) => x.i), ...DESCRIBE[measure] };
}
