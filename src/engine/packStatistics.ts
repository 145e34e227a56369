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
import { ProbeError } from './errors';

/**
 * The graph of each direction, made when its session is created. A rewritten graph's bytes (the file
 * read, then the new graph) are garbage once ONNX Runtime has them; made one at a time, the first
 * graph's can be collected while the second's are made, which V8 does when a large pack's buffers
 * push its external memory up by tens of MB. (The default pack's peak is ONNX Runtime's own: 251 MB
 * either way.)
 */
export interface GraphSources {
  pack: LoadedPack;
  forward: () => string | Uint8Array;
  backward: (() => string | Uint8Array) | null;
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

/**
 * The graphs to open: with statistics appended, else the files. A graph the statistics cannot be
 * appended to throws BAD_PACK when it is made, and Engine.open then opens both files as they are.
 */
export function graphSources(pack: LoadedPack, withStatistics: boolean): GraphSources {
  const plainBackward = pack.files.backward;
  const plain: GraphSources = { pack, forward: () => pack.files.forward, backward: plainBackward ? () => plainBackward : null };
  if (!withStatistics || pack.manifest.graph.statistics) return plain;
  const outputs = pack.manifest.graph.outputs;
  const make = (file: string) => (): Uint8Array => {
    let bytes: Uint8Array | null;
    try {
      bytes = appended(file, outputs);
    } catch {
      bytes = null; // a graph we cannot parse is left to ONNX Runtime, which says what is wrong
    }
    if (!bytes) throw new ProbeError('BAD_PACK', `model pack ${pack.dir}: the statistics cannot be appended to ${file}`);
    return bytes;
  };
  const manifest = { ...pack.manifest, graph: { ...pack.manifest.graph, statistics: STAT_NAMES } };
  return { pack: { ...pack, manifest }, forward: make(pack.files.forward), backward: plainBackward ? make(plainBackward) : null };
}
