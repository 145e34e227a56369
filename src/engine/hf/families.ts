// The Hugging Face architectures whose ONNX graph LM Probe builds itself (src/engine/hf), by the
// config.json field model_type. Everything else is refused with a message that names these.
export const FAMILIES = {
  gpt2: 'GPT-2',
  gpt_neox: 'GPT-NeoX (Pythia)',
  llama: 'Llama',
  mistral: 'Mistral',
  qwen2: 'Qwen2',
} as const;

export type ModelType = keyof typeof FAMILIES;

export function isSupportedModelType(t: unknown): t is ModelType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(FAMILIES, t);
}

export function supportedList(): string {
  return Object.entries(FAMILIES)
    .map(([k, v]) => `${k} (${v})`)
    .join(', ');
}
