// Stream state created on first use: the common mechanism of IncomingMessage (Readable) and
// OutgoingMessage (Writable). Node's stream code reaches a stream's state only through its
// `_readableState` / `_writableState` property; an accessor on the prototype creates the state at
// that first access and replaces itself with an ordinary own property holding it.

/** A class whose instances create their stream state on demand. */
interface LazyStateOwner {
  _createStreamState(): object;
}

/**
 * Make `property` of `prototype`'s instances lazy: reading it calls `_createStreamState()` (which
 * must define the own property); assigning it defines the own property directly.
 */
export function defineLazyStreamState(prototype: LazyStateOwner, property: '_readableState' | '_writableState'): void {
  Object.defineProperty(prototype, property, {
    configurable: true,
    get(this: LazyStateOwner) {
      return this._createStreamState();
    },
    set(this: LazyStateOwner, value: unknown) {
      Object.defineProperty(this, property, { value, writable: true, configurable: true, enumerable: true });
    },
  });
}
