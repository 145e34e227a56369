// Progress on stderr (stdout stays clean for results): a bar on a terminal; anywhere else (a log
// file, CI) one line every few seconds with the tokens scored, the rate and the ETA, so that a long
// run in a log shows it is alive and when it will end.
import { SingleBar } from 'cli-progress';

export interface ProgressState {
  /** Fraction of the work done, 0..1 (what the ETA extrapolates). */
  fraction: number;
  /** Work done in `unit`s: for tokens, scored in both directions (half a token when one has). */
  done: number;
  /** Work in all, when known. */
  total?: number;
  /** Default "tokens". */
  unit?: string;
  /** What is running now (e.g. forward, backward, a file). */
  stage?: string;
}

export interface Progress {
  update(s: ProgressState): void;
  /** Ends the bar; in a log, one closing line when any progress line was printed. */
  stop(): void;
}

/** Seconds between progress lines when stderr is not a terminal (LM_PROBE_PROGRESS_SECONDS). */
function lineInterval(): number {
  const s = Number(process.env.LM_PROBE_PROGRESS_SECONDS);
  return Number.isFinite(s) && s > 0 ? s : 5;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * A progress display for `label` (e.g. "probe"). Nothing shows for work that ends within the first
 * interval, so quick runs keep stderr empty.
 */
export function progress(label: string, opts: { stream?: NodeJS.WriteStream; perStage?: boolean } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const start = performance.now();
  // perStage: each stage is its own run of 0..1 (fit-probes: sample, then solve), timed from its start.
  let t0 = start;
  let stage: string | undefined;
  const restart = (s: ProgressState) => {
    if (opts.perStage && s.stage !== stage) t0 = performance.now();
    stage = s.stage;
  };
  const rate = (s: ProgressState) => s.done / Math.max(1e-3, (performance.now() - t0) / 1000);
  const eta = (s: ProgressState) => ((performance.now() - t0) / 1000) * ((1 - s.fraction) / Math.max(1e-9, s.fraction));
  if (stream.isTTY) {
    let bar: SingleBar | null = null;
    return {
      update(s) {
        restart(s);
        if (!bar && performance.now() - start < 500) return; // no flash of a bar for a quick run
        const payload = { stage: s.stage ?? '', rate: `${count(rate(s))} ${s.unit ?? 'tokens'}/s`, eta: duration(eta(s)) };
        if (!bar) {
          bar = new SingleBar({ format: `${label} |{bar}| {percentage}% | {stage} | {rate} | ETA {eta}`, stream, hideCursor: true, clearOnComplete: true });
          bar.start(1000, Math.round(s.fraction * 1000), payload);
        } else bar.update(Math.round(s.fraction * 1000), payload);
      },
      stop() {
        bar?.stop();
      },
    };
  }
  const every = lineInterval() * 1000;
  let next = t0 + every;
  let last: ProgressState | null = null;
  let printed = false;
  return {
    update(s) {
      restart(s);
      last = s;
      const now = performance.now();
      if (now < next || s.fraction >= 1) return;
      next = now + every;
      printed = true;
      const unit = s.unit ?? 'tokens';
      const of = s.total ? ` of ${count(s.total)}` : '';
      const pct = `${(100 * s.fraction).toFixed(s.fraction < 0.1 ? 1 : 0)}%`;
      stream.write(`lm-probe: ${label}: ${count(s.done)}${of} ${unit} (${pct}${s.stage ? `, ${s.stage}` : ''}), ${count(rate(s))} ${unit}/s, ETA ${duration(eta(s))}\n`);
    },
    stop() {
      if (printed && last) {
        const unit = last.unit ?? 'tokens';
        const what = opts.perStage ? `done in ${duration((performance.now() - start) / 1000)}` : `${count(last.done)} ${unit} in ${duration((performance.now() - start) / 1000)} (${count(rate(last))} ${unit}/s)`;
        stream.write(`lm-probe: ${label}: ${what}\n`);
      }
      printed = false;
    },
  };
}
