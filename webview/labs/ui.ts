// Small DOM helpers of the Labs view: elements, numeric controls (a slider with a number box),
// metric tiles that carry their definition and reference level on hover, and the view's styles
// (one nonce'd <style>: the CSP refuses style attributes in markup).
import type { ThemeColors } from '../analyses/index';
import { axis } from '../charts';
import { injectCss } from '../analyses/dom';

export { axis };

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...kids: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of kids) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A number for display: 4 significant digits, exponent notation when very small or large. */
export function fmt(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) {
    const [m, e] = x.toExponential(Math.max(1, digits - 2)).split('e');
    const sup = Number(e)
      .toString()
      .replace(/[-0-9]/g, (ch) => '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'['-0123456789'.indexOf(ch)]);
    return `${Number(m)}×10${sup}`;
  }
  return Number(x.toPrecision(digits)).toString();
}

export interface NumberControl {
  el: HTMLElement;
  get(): number;
  set(v: number): void;
  setDisabled(d: boolean): void;
}

/**
 * A labelled slider with a number box beside it. `log` makes the slider logarithmic. The label's
 * title is the definition of the quantity; onChange fires on slider release and on a typed value.
 */
export function numberControl(o: {
  id: string;
  label: string;
  title: string;
  min: number;
  max: number;
  step?: number;
  log?: boolean;
  integer?: boolean;
  unit?: string;
  value: number;
  onChange(v: number): void;
}): NumberControl {
  const steps = 200;
  const range = h('input', { type: 'range', id: `${o.id}-range`, min: '0', max: String(o.log ? steps : o.max), step: o.log ? '1' : String(o.step ?? (o.integer ? 1 : (o.max - o.min) / steps)), 'aria-label': o.label });
  if (!o.log) range.min = String(o.min);
  const box = h('input', { type: 'number', id: o.id, min: String(o.min), max: String(o.max), step: o.integer ? '1' : 'any', 'aria-label': o.label, title: o.title });
  const toRange = (v: number) => (o.log ? String(Math.round((Math.log(v / o.min) / Math.log(o.max / o.min)) * steps)) : String(v));
  const fromRange = () => {
    const r = Number(range.value);
    const v = o.log ? o.min * (o.max / o.min) ** (r / steps) : r;
    return o.integer ? Math.round(v) : Number(v.toPrecision(3));
  };
  let value = o.value;
  const show = (v: number) => {
    value = v;
    box.value = String(v);
    range.value = toRange(v);
  };
  show(o.value);
  const clamp = (v: number) => Math.min(o.max, Math.max(o.min, o.integer ? Math.round(v) : v));
  range.addEventListener('input', () => (box.value = String(fromRange())));
  range.addEventListener('change', () => {
    show(fromRange());
    o.onChange(value);
  });
  box.addEventListener('change', () => {
    const v = Number(box.value);
    if (box.value.trim() === '' || !Number.isFinite(v)) {
      show(value);
      return;
    }
    show(clamp(v));
    o.onChange(value);
  });
  const label = h('label', { for: o.id, title: o.title }, o.label);
  const el = h('div', { class: 'lab-control' }, label, range, h('span', { class: 'lab-box' }, box, o.unit ? h('span', { class: 'lab-unit' }, o.unit) : null));
  return {
    el,
    get: () => value,
    set: show,
    setDisabled(d) {
      range.disabled = d;
      box.disabled = d;
      el.classList.toggle('disabled', d);
    },
  };
}

/** A metric tile: label, value, and on hover its definition, unit and reference level. */
export function metric(label: string, value: string, title: string, cls = '', raw?: number | null): HTMLElement {
  const attrs: Record<string, string | undefined> = { class: `metric ${cls}`, title, tabindex: '0', 'data-value': raw === undefined || raw === null ? undefined : String(raw) };
  return h('div', attrs, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

/** A number inside text that explains itself on hover. */
export function num(value: string, title: string): HTMLElement {
  return h('span', { class: 'lab-num', title }, value);
}

export function logAxis(c: ThemeColors, title: string, extra: Record<string, unknown> = {}) {
  return {
    ...axis(c, title, extra),
    type: 'logarithmic' as const,
    ticks: {
      color: c.muted,
      maxTicksLimit: 7,
      callback: (v: number | string) => {
        const x = Number(v);
        const e = Math.log10(x);
        return Math.abs(e - Math.round(e)) < 1e-9 ? `1e${Math.round(e)}` : '';
      },
    },
  };
}

export function baseOptions(c: ThemeColors) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: c.foreground,
    font: { family: c.font },
    parsing: false as const,
    plugins: {
      legend: { position: 'bottom' as const, labels: { color: c.foreground, boxWidth: 10, boxHeight: 2, padding: 6, font: { size: 10.5 } } },
    },
  };
}

const CSS = `
body.labs-body { padding: 0 8px 16px; }
.labs-tabs { margin-top: 6px; }
.lab-intro { margin: 0 0 6px; line-height: 1.45; }
.lab-cite { font-weight: normal; text-transform: none; letter-spacing: 0; }
.lab-controls { display: flex; flex-direction: column; gap: 3px; margin: 6px 0; }
.lab-control { display: grid; grid-template-columns: minmax(5.5em, 34%) 1fr auto; gap: 8px; align-items: center; font-size: 12px; }
.lab-control.disabled { opacity: .5; }
.lab-control label { color: var(--vscode-foreground); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: help; }
.lab-control input[type=range] { accent-color: var(--vscode-button-background, #0078d4); min-width: 60px; width: 100%; margin: 0; }
.lab-box { display: inline-flex; align-items: center; gap: 3px; }
.lab-control input[type=number], .lab-field input[type=number] { width: 5.2em; background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); border-radius: 2px; padding: 1px 3px; font: inherit; font-size: 12px; }
.lab-control input:focus, .lab-field input:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.lab-unit { color: var(--vscode-descriptionForeground); font-size: 11px; min-width: 3.2em; }
.lab-row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 6px 0; font-size: 12px; }
.lab-data { overflow-wrap: anywhere; }
.lab-num { border-bottom: 1px dotted var(--vscode-descriptionForeground); cursor: help; font-variant-numeric: tabular-nums; }
.lab-warn { color: var(--vscode-editorWarning-foreground); }
.lab-ok { color: var(--vscode-descriptionForeground); }
.lab-chart { position: relative; height: 200px; margin: 4px 0 10px; }
.lab-formula { font-size: 12px; line-height: 1.5; padding: 6px 8px; border-left: 2px solid var(--vscode-textBlockQuote-border, var(--vscode-focusBorder)); background: var(--vscode-textBlockQuote-background, transparent); margin: 6px 0; overflow-wrap: anywhere; }
.lab-eq { display: block; margin: 4px 0; font-family: var(--vscode-editor-font-family); font-size: 11.5px; }
.lab-chart.tall { height: 300px; }
.lab-radio { display: flex; gap: 12px; font-size: 12px; margin: 4px 0; }
.lab-radio label { display: inline-flex; gap: 4px; align-items: center; cursor: pointer; }
.lab-field { display: inline-flex; gap: 4px; align-items: center; }
.lab-scroll { overflow-x: auto; }
.lab-table { font-size: 11px; }
.lab-table td, .lab-table th { font-variant-numeric: tabular-nums; padding: 1px 3px; white-space: nowrap; }
.lab h2 { flex-wrap: wrap; }
.lab h2 .lab-cite { white-space: normal; }
.lab-table th { cursor: help; }
.lab-table tbody tr { cursor: default; }
.lab-status { min-height: 1.2em; font-size: 12px; color: var(--vscode-descriptionForeground); }
.lab-status.error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
.labs .metrics { grid-template-columns: repeat(auto-fill, minmax(84px, 1fr)); }
.labs .metric { cursor: help; }
.labs .metric .value { font-size: 14px; }
.metric.prefix .value { color: var(--vscode-charts-blue); }
.metric.causal .value { color: var(--vscode-charts-orange); }
.metric.ref .value { color: var(--vscode-charts-green); }
.metric.tuple .value { color: var(--vscode-charts-orange); }
.lab-skipped { margin: 2px 0; padding-left: 16px; font-size: 11px; color: var(--vscode-editorWarning-foreground); }
`;

export function injectStyles(): void {
  injectCss(CSS);
}
