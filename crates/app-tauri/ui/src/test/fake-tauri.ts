// A stand-in for `@tauri-apps/api/core` in component tests: `invoke` is a mock the test
// programs per command; `Channel` just keeps its handler so the test can send events.
import { vi } from 'vitest';

export class Channel<T = unknown> {
  static last: Channel<unknown> | null = null;
  id = Math.floor(Math.random() * 1e9);
  onmessage: (m: T) => void;
  constructor(onmessage?: (m: T) => void) {
    this.onmessage = onmessage ?? (() => {});
    Channel.last = this as Channel<unknown>;
  }
  toJSON(): string {
    return `__CHANNEL__:${this.id}`;
  }
}

type Handler = (args: Record<string, unknown>) => unknown;

export const handlers: Record<string, Handler> = {};

export const invoke = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
  const h = handlers[cmd];
  if (!h) throw { kind: 'internal', message: `no handler for ${cmd} in this test` };
  return h(args ?? {});
});

export const isTauri = () => true;

export function resetFake(): void {
  for (const k of Object.keys(handlers)) delete handlers[k];
  invoke.mockClear();
  Channel.last = null;
}

/** A promise the test settles by hand. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
