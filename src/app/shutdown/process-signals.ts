// The process-signal wiring of a shutdown: one listener per signal name, added when shutdown() is
// created and removed when it has finished (or on dispose), so that a later signal gets Node's
// default behaviour again.

/** Listen to `signals` on `process`, calling `onSignal(name)` on each; returns the remover. */
export function listenToSignals(signals: readonly NodeJS.Signals[], onSignal: (signal: NodeJS.Signals) => void): () => void {
  const listeners = signals.map((signal) => {
    const listener = (): void => onSignal(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  };
}
