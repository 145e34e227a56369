// A pack's own graphs with the per-token statistics of hf/statistics.ts appended when the engine
// opens them, so that old packs get the same speed as the graphs LM Probe builds: the T x V logits
// stay inside ONNX Runtime (a 512-token probe of the default pack spent half its time in JavaScript
// reducing them), and its attention masks are made additive (additiveMask.ts). The pack's files are
// not changed; sessions are made from the rewritten bytes.
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import type { LoadedPack } from './pack';
import { appendStatistics, type ModelOutputs, STAT_NAMES } from './hf/statistics';
import { additiveMasks } from './additiveMask';

export interface GraphSources {
  pack: LoadedPack;
  forward: string | Uint8Array;
  backward: string | Uint8Array | null;
}

function appended(file: string, outputs: ModelOutputs): Uint8Array | null {
  const m = onnx.ModelProto.decode(readFileSync(file));
  const g = m.graph as onnx.GraphProto | null;
  // External weights are found relative to the graph's file, which bytes do not have.
  if (!g || g.initializer.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)) return null;
  if (!g.output.some((o) => o.name === outputs.logits)) return null;
  if (g.input.some((i) => Object.values(STAT_NAMES).includes(i.name as never))) return null;
  additiveMasks(g);
  return appendStatistics(m, outputs);
}

/** The graphs to open: with statistics where they can be appended to both directions, else the files. */
export function graphSources(pack: LoadedPack, withStatistics: boolean): GraphSources {
  const plain: GraphSources = { pack, forward: pack.files.forward, backward: pack.files.backward };
  if (!withStatistics || pack.manifest.graph.statistics) return plain;
  try {
    const outputs = pack.manifest.graph.outputs;
    const forward = appended(pack.files.forward, outputs);
    const backward = pack.files.backward ? appended(pack.files.backward, outputs) : null;
    if (!forward || (pack.files.backward && !backward)) return plain;
    const manifest = { ...pack.manifest, graph: { ...pack.manifest.graph, statistics: STAT_NAMES } };
    return { pack: { ...pack, manifest }, forward, backward };
  } catch {
    return plain; // a graph we cannot parse is left to ONNX Runtime, which says what is wrong
  }
}
