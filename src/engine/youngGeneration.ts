// For the processes LM Probe owns (the CLI, the editor's engine host), never for a library caller:
// V8 grows its young generation (to 16 MB semi-spaces, about 30 MB more heap) while a long text is
// tokenized, and keeps it through the scoring. With the growth off, `probe --summary` and `corpus`
// on 2 MB of text peak near their figure on 50k characters, as fast (BENCHMARKS.md, "Flat memory").
// V8 reads the flag each time the young generation would grow, so it takes effect when set at run
// time (`--max-semi-space-size` does not: it is read at startup).
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
