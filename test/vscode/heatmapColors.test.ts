// The heatmap's default colors (package.json contributes.colors) measured with WCAG 2.x: the
// editor's foreground text on every bucket, composited over the editor background of VS Code's
// own themes, keeps AA contrast (4.5:1); within each scale the buckets are ordered by luminance
// (lighter steps on dark themes, darker on light ones), so that the order survives any color
// vision deficiency. Also: quantile thresholds and uncolored whitespace on real probes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { DIFFERENCE_BUCKETS, RANK_BUCKETS, SURPRISAL_BUCKETS, THRESHOLD_QUANTILES, bucketOf, inkRange, quantileThresholds, thresholdsFor } from '../../src/vscode/heatmap';

const ROOT = resolve(__dirname, '..', '..');
const PACK = join(ROOT, 'models', 'default');
const skip = existsSync(join(PACK, 'manifest.json')) ? false : 'models/default is missing';

type Kind = 'dark' | 'light' | 'highContrast' | 'highContrastLight';
/**
 * editor.background and editor.foreground of VS Code's default themes (extensions/theme-defaults:
 * dark_modern, dark_vs, light_modern, light_vs, hc_black; hc_light takes the workbench defaults),
 * and the syntax colors of Dark+ and Light+ (comments, strings, keywords, ...), reported only.
 */
const THEMES: { name: string; kind: Kind; bg: string; fg: string; syntax: string[] }[] = [
  { name: 'Dark Modern', kind: 'dark', bg: '#1F1F1F', fg: '#CCCCCC', syntax: ['#6A9955', '#CE9178', '#569CD6', '#C586C0', '#B5CEA8', '#DCDCAA', '#9CDCFE', '#4EC9B0'] },
  { name: 'Dark+', kind: 'dark', bg: '#1E1E1E', fg: '#D4D4D4', syntax: ['#6A9955', '#CE9178', '#569CD6', '#C586C0', '#B5CEA8', '#DCDCAA', '#9CDCFE', '#4EC9B0'] },
  { name: 'Light Modern', kind: 'light', bg: '#FFFFFF', fg: '#3B3B3B', syntax: ['#008000', '#A31515', '#0000FF', '#AF00DB', '#098658', '#795E26', '#001080', '#267F99'] },
  { name: 'Light+', kind: 'light', bg: '#FFFFFF', fg: '#000000', syntax: ['#008000', '#A31515', '#0000FF', '#AF00DB', '#098658', '#795E26', '#001080', '#267F99'] },
  { name: 'Dark High Contrast', kind: 'highContrast', bg: '#000000', fg: '#FFFFFF', syntax: [] },
  { name: 'Light High Contrast', kind: 'highContrastLight', bg: '#FFFFFF', fg: '#292929', syntax: [] },
];

const colors = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { colors: { id: string; defaults: Record<Kind, string> }[] } }).contributes.colors;
const colorOf = (id: string, kind: Kind) => colors.find((c) => c.id === id)!.defaults[kind];

type RGBA = [number, number, number, number];
function parse(hex: string): RGBA {
  const h = hex.replace('#', '');
  const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
  return [n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1];
}
/** `top` drawn over the opaque `bottom` (the editor paints decorations over its background). */
function over(top: RGBA, bottom: RGBA): RGBA {
  const a = top[3];
  return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
}
/** WCAG 2.x relative luminance. */
function luminance(c: RGBA): number {
  const lin = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}
function contrast(a: RGBA, b: RGBA): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const SCALES = { surprisal: SURPRISAL_BUCKETS, difference: DIFFERENCE_BUCKETS, rank: RANK_BUCKETS };

test('the editor foreground keeps WCAG AA contrast (4.5:1) on every bucket of every scale, in light, dark and high-contrast themes', () => {
  const report: string[] = [];
  for (const t of THEMES) {
    const bg = parse(t.bg);
    for (const [scale, buckets] of Object.entries(SCALES)) {
      for (const b of buckets) {
        const fill = over(parse(colorOf(b.color, t.kind)), bg);
        const ratio = contrast(parse(t.fg), fill);
        assert.ok(ratio >= 4.5, `${t.name}: ${b.color} ${colorOf(b.color, t.kind)}: ${ratio.toFixed(2)}:1`);
        const syn = t.syntax.length ? Math.min(...t.syntax.map((s) => contrast(parse(s), fill))) : NaN;
        report.push(`${t.name.padEnd(20)} ${scale.padEnd(10)} ${b.label.padEnd(26)} fg ${ratio.toFixed(2)}:1${t.syntax.length ? `, weakest syntax color ${syn.toFixed(2)}:1` : ''}`);
      }
    }
  }
  // The figures, for the README and for whoever tunes the colors.
  if (process.env.LMPROBE_CONTRAST_REPORT) console.log(report.join('\n'));
});

test('each scale is ordered by luminance away from the background (color-blind safe: the order is not carried by hue alone)', () => {
  for (const t of THEMES) {
    const bg = parse(t.bg);
    const dark = luminance(bg) < 0.5;
    const step = (ids: string[]) => {
      const L = ids.map((id) => luminance(over(parse(colorOf(id, t.kind)), bg)));
      for (let i = 1; i < L.length; i++) {
        const ratio = (Math.max(L[i], L[i - 1]) + 0.05) / (Math.min(L[i], L[i - 1]) + 0.05);
        assert.ok(dark ? L[i] > L[i - 1] : L[i] < L[i - 1], `${t.name}: ${ids[i]} is not further from the background than ${ids[i - 1]}`);
        assert.ok(ratio >= 1.04, `${t.name}: ${ids[i - 1]} → ${ids[i]} differ by ${ratio.toFixed(3)}:1 in luminance`);
      }
    };
    step(SURPRISAL_BUCKETS.map((b) => b.color));
    step(RANK_BUCKETS.map((b) => b.color));
    // the diverging scale: each side grows away from the uncolored middle
    step([DIFFERENCE_BUCKETS[1].color, DIFFERENCE_BUCKETS[0].color]);
    step([DIFFERENCE_BUCKETS[2].color, DIFFERENCE_BUCKETS[3].color]);
  }
});

test('quantile thresholds put the shares of a real text\'s tokens in each bucket', { skip }, async () => {
  const engine = await Engine.open(PACK);
  try {
    const r = await engine.probe(readFileSync(join(ROOT, 'README.md'), 'utf8').slice(0, 6000), { topK: 0 });
    const th = thresholdsFor('quantiles', [2, 6, 10, 14], r.tokens, 'forward');
    const n = r.tokens.length;
    const counts = [0, 0, 0, 0, 0];
    for (const t of r.tokens) counts[bucketOf(t, 'forward', th)]++;
    const below = counts.map((_, i) => counts.slice(0, i + 1).reduce((a, b) => a + b, 0) / n);
    THRESHOLD_QUANTILES.forEach((q, i) => assert.ok(Math.abs(below[i] - q) < 0.01, `bucket ${i}: ${below[i].toFixed(3)} of tokens below, want ${q}`));
    assert.deepEqual(thresholdsFor('fixed', [2, 6, 10, 14], r.tokens, 'forward'), [2, 6, 10, 14]);
    // ties (a constant text) still give ascending thresholds
    const flat = quantileThresholds([1, 1, 1, 1])!;
    for (let i = 1; i < flat.length; i++) assert.ok(flat[i] > flat[i - 1]);
  } finally {
    await engine.dispose();
  }
});

test('indentation and line breaks get no colored bars: the colored part of a token has no leading or trailing whitespace', { skip }, async () => {
  const engine = await Engine.open(PACK);
  try {
    const text = 'function f(x) {\n    if (x) {\n        return 1;\n    }\n\treturn 0;\n}\n';
    const r = await engine.probe(text, { topK: 0 });
    let whitespaceOnly = 0;
    for (const t of r.tokens) {
      const ink = inkRange(text, t.start, t.end);
      if (!ink) {
        assert.match(t.text, /^\s+$/);
        whitespaceOnly++;
        continue;
      }
      const s = text.slice(ink[0], ink[1]);
      assert.equal(s, s.trim(), `token ${JSON.stringify(t.text)}`);
      assert.equal(s, t.text.trim());
    }
    assert.ok(whitespaceOnly > 0, 'the indentation tokens are uncolored');
  } finally {
    await engine.dispose();
  }
});
