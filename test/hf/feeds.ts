import * as ort from 'onnxruntime-node';

/** Feeds of a built forward graph for rows of ids (the full outputs on, so every row scored, as the engine feeds). */
export function builtFeeds(rows: number[][]): Record<string, ort.Tensor> {
  const B = rows.length;
  const S = rows[0].length;
  const ids = new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, S]);
  return {
    input_ids: ids,
    lm_probe_rows: new ort.Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i)), [B * S]),
    lm_probe_target_ids: new ort.Tensor('int64', new BigInt64Array(B * S), [B * S]),
    lm_probe_top_k: new ort.Tensor('int64', BigInt64Array.from([1n]), [1]),
    lm_probe_full: new ort.Tensor('bool', Uint8Array.of(1), []),
    lm_probe_scores: new ort.Tensor('bool', Uint8Array.of(0), []),
  };
}
