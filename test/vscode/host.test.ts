import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EngineClient } from '../../src/host/client';
import { HostError, isChildToParent, isParentToChild, toWireError } from '../../src/host/protocol';

const fake = join(__dirname, 'fixtures', 'fakeHost.cjs');

test('protocol validators accept well-formed messages and reject the rest', () => {
  assert.ok(isParentToChild({ type: 'request', id: 1, method: 'probe', params: { text: 'a', options: {} } }));
  assert.ok(isParentToChild({ type: 'cancel', id: 3 }));
  assert.ok(!isParentToChild({ type: 'request', id: 1, method: 'rm -rf', params: {} }));
  assert.ok(!isParentToChild({ type: 'request', id: 1.5, method: 'probe', params: {} }));
  assert.ok(!isParentToChild(null));
  assert.ok(isChildToParent({ type: 'response', id: 1, ok: true, result: null }));
  assert.ok(isChildToParent({ type: 'response', id: 1, ok: false, error: { code: 'X', message: 'y' } }));
  assert.ok(!isChildToParent({ type: 'response', id: 1, ok: false }));
  assert.ok(isChildToParent({ type: 'progress', id: 1, done: 1, total: 2, stage: 'forward' }));
  assert.ok(!isChildToParent({ type: 'progress', id: 1 }));
  assert.ok(isChildToParent({ type: 'ready', pid: 4 }));
});

test('toWireError keeps the engine error code', () => {
  assert.deepEqual(toWireError(Object.assign(new Error('too many'), { code: 'TOO_MANY_TOKENS' })), { code: 'TOO_MANY_TOKENS', message: 'too many' });
  assert.equal(toWireError(new Error('boom')).code, 'INTERNAL');
  assert.equal(toWireError('str').message, 'str');
});

test('client: lazy start, request/response, error codes', async () => {
  const c = new EngineClient({ hostScript: fake });
  assert.equal(c.running, false, 'nothing is forked before the first request');
  const r = await c.request('probe', { text: 'hello', options: {} });
  assert.deepEqual(r, { echo: 'hello' });
  assert.ok(c.running);
  await assert.rejects(c.request('probe', { text: 'fail', options: {} }), (e: HostError) => e.code === 'EMPTY_TEXT');
  c.dispose();
});

test('client: progress and cancellation by id', async () => {
  const c = new EngineClient({ hostScript: fake });
  const ac = new AbortController();
  let progress = 0;
  const p = c.request('probe', { text: 'slow', options: {} }, { signal: ac.signal, onProgress: (x) => (progress = x.done) });
  while (progress < 3) await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  await assert.rejects(p, (e: HostError) => e.code === 'CANCELLED' && e.cancelled);
  // The host keeps serving after a cancel.
  assert.deepEqual(await c.request('probe', { text: 'again', options: {} }), { echo: 'again' });
  c.dispose();
});

test('client: a crash rejects pending requests with HOST_CRASHED and the next request restarts', async () => {
  const crashes: string[] = [];
  const c = new EngineClient({ hostScript: fake, onCrash: (m) => crashes.push(m) });
  const pid1 = await c.start();
  const slow = c.request('probe', { text: 'slow', options: {} });
  await assert.rejects(c.request('probe', { text: 'crash', options: {} }), (e: HostError) => e.code === 'HOST_CRASHED');
  await assert.rejects(slow, (e: HostError) => e.code === 'HOST_CRASHED');
  assert.equal(crashes.length, 1);
  assert.match(crashes[0], /killed.*restarts on the next probe/);
  assert.deepEqual(await c.request('probe', { text: 'after', options: {} }), { echo: 'after' });
  assert.notEqual(c.pid, pid1);
  c.dispose();
  await assert.rejects(c.request('ping', {}), (e: HostError) => e.code === 'HOST_STOPPED');
});

test('client: a crash at start-up quotes the last stderr line of the child', async () => {
  process.env.FAKE_HOST_FAIL_AT_START = '1';
  const crashes: string[] = [];
  const c = new EngineClient({ hostScript: fake, onCrash: (m) => crashes.push(m) });
  try {
    await assert.rejects(c.request('ping', {}), (e: HostError) => e.code === 'HOST_CRASHED' && /cannot open shared object/.test(e.message));
    assert.match(crashes[0], /exited with code 1\. Last error: Error: libonnxruntime\.so\.1: cannot open shared object file/);
  } finally {
    delete process.env.FAKE_HOST_FAIL_AT_START;
    c.dispose();
  }
});
