// Every probe runs under a deadline of its own and under the run's signal (the whole run's --timeout, Ctrl-C).
// A probe receives a signal (its reason is 'timeout' or 'cancelled') and must destroy what it opened when that signal fires; `bounded` makes sure the caller
// stops waiting at the deadline even if a probe forgets.

export class ProbeStopped extends Error {
  constructor(readonly reason: 'timeout' | 'cancelled') {
    super(reason === 'timeout' ? 'timed out' : 'cancelled');
    this.name = 'ProbeStopped';
  }
}

export async function bounded<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, outer: AbortSignal): Promise<T> {
  if (outer.aborted) throw new ProbeStopped('cancelled');
  const controller = new AbortController();
  let reason: 'timeout' | 'cancelled' = 'timeout';
  const onOuter = () => {
    reason = 'cancelled';
    controller.abort('cancelled');
  };
  outer.addEventListener('abort', onOuter, { once: true });
  const timer = setTimeout(() => controller.abort('timeout'), Math.max(1, ms));
  try {
    return await new Promise<T>((resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(new ProbeStopped(reason)), { once: true });
      work(controller.signal).then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuter);
  }
}

/** Resolves after `ms`, or at once when the signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
