// Stream state created on first use: the common mechanism of IncomingMessage (Readable) and
// OutgoingMessage (Writable). Node's stream code reaches a stream's state only through its
// `_readableState` / `_writableState` property; an accessor on the prototype returns the state held
// in an ordinary field, and creates it at the first access. (Replacing the accessor with an own
// data property, as this once did, costs a defineProperty of about 200 ns per stream.)

/** A class whose instances create their stream state on demand. */
interface LazyStateOwner {
  _createStreamState(): object;
}

/**
 * Make `property` of `prototype`'s instances lazy: reading it returns `instance[field]`, or calls
 * `_createStreamState()` (which must store the state in `field`) while that is null; assigning it
 * stores into `field`. `field` must be initialised to null by the constructor.
 */
export function defineLazyStreamState(
  prototype: LazyStateOwner,
  property: '_readableState' | '_writableState',
  field: '_streamState',
): void {
  Object.defineProperty(prototype, property, {
    configurable: true,
    get(this: LazyStateOwner & Record<typeof field, object | null>) {
      return this[field] ?? this._createStreamState();
    },
    set(this: Record<typeof field, unknown>, value: unknown) {
      this[field] = value;
    },
  });
}
