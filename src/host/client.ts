// The parent side of the engine host. Forks dist/engineHost.js lazily (on the first request, so
// activation stays fast) with the extension host's own runtime (process.execPath, run as plain
// Node under Electron), sends typed requests, forwards progress and cancellation, and after a
// crash rejects what was pending with a clear HOST_CRASHED error and starts afresh on the next
// request. No 'vscode' import: unit-tested in plain Node.
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import {
  HostError,
  isChildToParent,
  type ChildToParent,
  type Method,
  type Methods,
  type ParentToChild,
  type PartialMessage,
} from './protocol';

export type PartialScores = Omit<PartialMessage, 'type' | 'id'>;

export interface Progress {
  done: number;
  total: number;
  stage: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** A probe's scores of a run of tokens, as they are computed (before the result). */
  onPartial?: (p: PartialScores) => void;
}

export interface EngineClientOptions {
  /** Path of the bundled child script (dist/engineHost.js). */
  hostScript: string;
  /** Runtime to fork with; defaults to process.execPath. */
  execPath?: string;
  /** Extra arguments for the child's runtime (e.g. --max-old-space-size). */
  execArgv?: string[];
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Scheduling niceness of the child (0 = same as the extension host). Default 4. */
  niceness?: number;
  /** Called when the child exits without being asked to; the message is ready for the user. */
  onCrash?: (message: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
  onPartial?: (p: PartialScores) => void;
  cleanup: () => void;
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private disposed = false;
  /** How many times the child has crashed in this session (shown in messages and tests). */
  crashes = 0;
  private lastStderr: string | undefined;
  /** Resolves with the pid once the current child said it is ready. */
  private ready: Promise<number> | undefined;

  constructor(private readonly opts: EngineClientOptions) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Starts the child when it is not running; resolves with its pid once it is ready. */
  start(): Promise<number> {
    if (this.disposed) return Promise.reject(new HostError('HOST_STOPPED', 'The engine host was shut down.'));
    if (this.running && this.ready) return this.ready;
    this.stopping = false;
    this.lastStderr = undefined;
    const log = this.opts.log ?? (() => undefined);
    const child = fork(this.opts.hostScript, [], {
      execPath: this.opts.execPath ?? process.execPath,
      execArgv: this.opts.execArgv ?? [],
      // glibc's malloc serves ONNX Runtime's large, short-lived buffers from its heap once a freed
      // mapping has raised its threshold, and then keeps the memory: with a fixed threshold a long
      // probe's peak stayed near its start (318 MB against 580 MB at 400k characters).
      env: { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    // A long probe keeps every core busy: run it just below the editor's priority so that typing
    // and the UI stay responsive (ignored where the OS refuses).
    if (child.pid && this.opts.niceness !== 0) {
      try {
        setPriority(child.pid, this.opts.niceness ?? 4);
      } catch {
        // not permitted: keep the default priority
      }
    }
    // ONNX Runtime and Dawn write to stderr; keep it for the output channel.
    child.stdout?.setEncoding('utf8').on('data', (d: string) => log('info', d.trimEnd()));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      log('warn', d.trimEnd());
      const last = d.split('\n').map((l) => l.trim()).filter(Boolean).pop();
      if (last) this.lastStderr = last.slice(0, 300);
    });
    this.ready = new Promise<number>((resolve, reject) => {
      const onMsg = (m: unknown) => {
        if (isChildToParent(m) && m.type === 'ready') {
          child.off('message', onMsg);
          resolve(m.pid);
        }
      };
      child.on('message', onMsg);
      child.once('close', (code, sig) => reject(new HostError('HOST_CRASHED', this.exitMessage(code, sig))));
      child.once('error', (e) => reject(new HostError('HOST_CRASHED', `The engine process could not start: ${e.message}`)));
    });
    this.ready.catch(() => undefined);
    child.on('message', (m: unknown) => {
      if (isChildToParent(m)) this.onMessage(m);
    });
    // 'close' comes after the child's stderr is drained, so the crash message can quote it.
    child.once('close', (code, sig) => this.onExit(child, code, sig));
    child.on('error', (e) => log('error', `engine host: ${e.message}`));
    log('info', `engine host started (pid ${child.pid})`);
    return this.ready;
  }

  request<M extends Method>(method: M, params: Methods[M]['params'], ro: RequestOptions = {}): Promise<Methods[M]['result']> {
    if (ro.signal?.aborted) return Promise.reject(new HostError('CANCELLED', 'Cancelled'));
    return this.start().then(
      () =>
        new Promise<Methods[M]['result']>((resolve, reject) => {
          // Aborted while the child was starting: an abort listener added now would never fire.
          if (ro.signal?.aborted) {
            reject(new HostError('CANCELLED', 'Cancelled'));
            return;
          }
          const id = this.nextId++;
          const onAbort = () => {
            // Answer the caller at once; the child stops between windows and its late reply is ignored.
            this.post({ type: 'cancel', id });
            const p = this.pending.get(id);
            if (p) {
              this.pending.delete(id);
              p.cleanup();
              p.reject(new HostError('CANCELLED', 'Cancelled'));
            }
          };
          const cleanup = () => ro.signal?.removeEventListener('abort', onAbort);
          this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: ro.onProgress, onPartial: ro.onPartial, cleanup });
          ro.signal?.addEventListener('abort', onAbort, { once: true });
          if (!this.post({ type: 'request', id, method, params })) {
            this.pending.delete(id);
            cleanup();
            reject(new HostError('HOST_CRASHED', 'The engine process is not running.'));
          }
        }),
    );
  }

  /** Stops the child (a later request starts a new one unless disposed). */
  stop(): void {
    this.stopping = true;
    this.child?.kill();
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    this.failAll(new HostError('HOST_STOPPED', 'The engine host was shut down.'));
  }

  private post(msg: ParentToChild): boolean {
    const c = this.child;
    if (!c || !c.connected) return false;
    try {
      c.send(msg);
      return true;
    } catch {
      return false;
    }
  }

  private onMessage(m: ChildToParent): void {
    switch (m.type) {
      case 'response': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        p.cleanup();
        if (m.ok) p.resolve(m.result);
        else p.reject(new HostError(m.error.code, m.error.message));
        return;
      }
      case 'progress':
        this.pending.get(m.id)?.onProgress?.({ done: m.done, total: m.total, stage: m.stage });
        return;
      case 'partial': {
        const { type: _t, id, ...rest } = m;
        this.pending.get(id)?.onPartial?.(rest);
        return;
      }
      case 'log':
        this.opts.log?.(m.level, m.message);
        return;
      case 'ready':
        return;
    }
  }

  private onExit(child: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void {
    if (this.child === child) {
      this.child = undefined;
      this.ready = undefined;
    }
    if (this.stopping || this.disposed) {
      this.failAll(new HostError('HOST_STOPPED', 'The engine host was stopped.'));
      return;
    }
    this.crashes++;
    const message = this.exitMessage(code, sig);
    this.opts.log?.('error', message);
    this.failAll(new HostError('HOST_CRASHED', message));
    this.opts.onCrash?.(message);
  }

  private exitMessage(code: number | null, sig: NodeJS.Signals | null): string {
    // A crash at start-up (a missing native library, say) says why on stderr: pass its last line on.
    const why = this.lastStderr && code !== null && code !== 0 ? ` Last error: ${this.lastStderr}` : '';
    return `${describeExit(code, sig)}${why} It restarts on the next probe.`;
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.cleanup();
      p.reject(e);
    }
  }
}

function describeExit(code: number | null, sig: NodeJS.Signals | null): string {
  if (sig === 'SIGKILL') return 'The engine process was killed (SIGKILL: out of memory, or killed by hand).';
  if (sig) return `The engine process stopped on signal ${sig}.`;
  return `The engine process exited with code ${code}.`;
}
