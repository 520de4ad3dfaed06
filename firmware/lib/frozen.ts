/**
 * Deep-freezes a constant table and returns it. On the board, xsl runs every preloaded module's
 * body at link time and keeps what it made in flash; an object left mutable there costs a RAM
 * alias slot at run time and a linker warning ("not frozen"). XS's own `Object.freeze(o, true)`
 * deep-freezes too, but only XS knows that second argument; this works on every engine. Typed
 * arrays with elements cannot be frozen and are left as they are.
 */
export function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) frozen((value as Record<string, unknown>)[key]);
  }
  return value;
}
