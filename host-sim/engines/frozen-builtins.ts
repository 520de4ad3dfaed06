/**
 * A script that freezes the built-ins as xsl does when it links a board's firmware with preloaded
 * modules (fxFreezeBuiltIns in the Moddable SDK's xs/tools/xsl.c): Object.freeze, shallow, on
 * Atomics, JSON, Math, Reflect and on the prototype of every built-in class and iterator. The
 * constructors and the global object stay writable, as on a board. Run before the firmware
 * bundle, so a firmware that writes to a built-in (e.g. `this.name = …` in an Error subclass,
 * which assigns over the frozen Error.prototype.name) fails on the host as it fails on the board.
 * (xsl also freezes prototypes JavaScript cannot reach: Compartment's, the host objects', the
 * module namespace's; nothing in the firmware can write to those.)
 */
export const FREEZE_BUILTINS = `(() => {
  const g = globalThis;
  const proto = Object.getPrototypeOf;
  const targets = [g.Atomics, JSON, Math, Reflect];
  const classes = ["AggregateError", "ArrayBuffer", "Array", "BigInt", "Boolean", "DataView", "Date", "Error",
    "EvalError", "FinalizationRegistry", "Function", "Map", "Number", "Object", "Promise", "RangeError",
    "ReferenceError", "RegExp", "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError",
    "URIError", "WeakMap", "WeakRef", "WeakSet", "SuppressedError", "DisposableStack", "AsyncDisposableStack",
    "Compartment", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
  for (const name of classes) if (typeof g[name] === "function") targets.push(g[name].prototype);
  targets.push(proto(Int8Array.prototype)); // %TypedArray%.prototype
  targets.push(proto(function* () {}), proto(function* () {}).prototype, proto(proto(function* () {}).prototype)); // %GeneratorFunction.prototype%, %GeneratorPrototype%, %IteratorPrototype%
  targets.push(proto(async function () {}), proto(async function* () {}), proto(async function* () {}).prototype, proto(proto(async function* () {}).prototype));
  targets.push(proto([][Symbol.iterator]()), proto(new Map()[Symbol.iterator]()), proto(new Set()[Symbol.iterator]()), proto(""[Symbol.iterator]()), proto(/a/[Symbol.matchAll]("")));
  targets.push(proto((function () { return arguments; })()), proto((function () { "use strict"; return arguments; })()));
  targets.push(Array.prototype[Symbol.unscopables]);
  for (const t of targets) if (t !== undefined && t !== null) Object.freeze(t);
})();
`;
