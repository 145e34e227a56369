// Public entry of the engine for src/cli, src/host and the analyses.
export { Engine, type RunOutput } from './engine';
export { ProbeError, isProbeError, type ProbeErrorCode } from './errors';
export { loadPack, defaultPackDir, packageRoot, type LoadedPack, type PackManifest } from './pack';
export { planWindows, type Window } from './surprisal';
export { defaultProviders } from './runtime';
export type { ProbeOptions, EngineOptions } from './api';
export * from './schema';
