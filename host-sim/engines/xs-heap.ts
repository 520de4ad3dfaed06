/**
 * Who holds the live XS heap: an xsnap snapshot (xs/sources/xsSnapshot.c, the atoms parseSnapshot
 * reads) read slot by slot, its references followed, and every slot and chunk charged to the
 * object that keeps it alive (the immediate dominator tree of the heap graph, rooted at the
 * machine's stack and key tables). Names come from the heap itself: a variable's name for a
 * closure, a property's key, a function's name, an instance's class (its prototype's
 * constructor). bench/memory.ts uses it to split the walk-through's heap between the firmware and
 * the host simulator's shims that run inside the engine (a board has neither the shims nor what
 * they hold).
 *
 * Layout read here is xsnap's on a 64-bit little-endian host (mx32bitID): a slot is 32 bytes,
 * `next` (8, the index of the next slot, 0 for none), kind (1), flag (1), 2 unused, ID (4), value
 * (16). Pointers to slots are indexes (1-based) into HEAP; pointers to chunks are offsets into
 * BLOC's data, each chunk preceded by a 16-byte header whose first 4 bytes are its size.
 */

const KIND = {
  STRING: 5,
  REFERENCE: 10,
  CLOSURE: 11,
  INSTANCE: 13,
  ARGUMENTS_SLOPPY: 14,
  ARGUMENTS_STRICT: 15,
  ARRAY: 16,
  ARRAY_BUFFER: 17,
  CALLBACK: 18,
  CODE: 19,
  FINALIZATION_CELL: 23,
  FINALIZATION_REGISTRY: 24,
  GLOBAL: 25,
  HOST: 26,
  MAP: 27,
  MODULE: 28,
  PROGRAM: 29,
  PROXY: 31,
  REGEXP: 32,
  SET: 33,
  WEAK_MAP: 35,
  WEAK_REF: 36,
  WEAK_SET: 37,
  ACCESSOR: 38,
  ENTRY: 40,
  ERROR: 41,
  HOME: 42,
  KEY: 43,
  KEY_X: 44,
  LIST: 45,
  PRIVATE: 46,
  STACK: 47,
  EXPORT: 52,
  WEAK_ENTRY: 53,
  MODULE_SOURCE: 55,
  BIGINT: 8,
} as const;

/** kinds whose value holds two slot pointers (at 16 and 24) */
const TWO_POINTERS: ReadonlySet<number> = new Set([
  KIND.ACCESSOR, KIND.HOME, KIND.LIST, KIND.PRIVATE, KIND.EXPORT, KIND.WEAK_ENTRY, KIND.PROXY,
  KIND.FINALIZATION_CELL,
]);
/** kinds whose value holds one slot pointer at 16 */
const ONE_POINTER: ReadonlySet<number> = new Set([
  KIND.REFERENCE, KIND.CLOSURE, KIND.ENTRY, KIND.ERROR, KIND.FINALIZATION_REGISTRY, KIND.MODULE,
  KIND.PROGRAM, KIND.MODULE_SOURCE, KIND.WEAK_MAP, KIND.WEAK_SET, KIND.WEAK_REF,
]);
/** kinds whose value's first word is a chunk of bytes */
const BYTE_CHUNK: ReadonlySet<number> = new Set([
  KIND.STRING, KIND.BIGINT, KIND.ARRAY_BUFFER, KIND.CODE, KIND.KEY, KIND.HOST,
]);
const SLOT_ARRAY: ReadonlySet<number> = new Set([KIND.ARRAY, KIND.ARGUMENTS_SLOPPY, KIND.ARGUMENTS_STRICT, KIND.STACK]);
const TABLE: ReadonlySet<number> = new Set([KIND.GLOBAL, KIND.MAP, KIND.SET]);

interface Atoms {
  slotBytes: number;
  bloc: Uint8Array;
  heap: Uint8Array;
  stack: Uint8Array;
  keys: Uint8Array;
  names: Uint8Array;
  symbols: Uint8Array;
}

function atoms(bytes: Uint8Array): Atoms {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
  if (bytes.length < 16 || tag(0) !== "XS_M") throw new Error("not an XS snapshot");
  const found: Record<string, Uint8Array> = {};
  let slotBytes = 0;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const size = view.getUint32(at);
    if (size < 8 || at + size > bytes.length) throw new Error("XS snapshot: bad atom");
    const t = tag(at);
    if (t === "VERS") slotBytes = Math.abs(view.getInt8(at + 11));
    found[t] = bytes.subarray(at + 8, at + size);
    at += size;
  }
  if (slotBytes !== 32) throw new Error(`XS snapshot: ${slotBytes}-byte slots, this reader knows 64-bit xsnap's 32`);
  for (const t of ["BLOC", "HEAP", "STAC", "KEYS", "NAME", "SYMB"]) if (!found[t]) throw new Error(`XS snapshot: ${t} missing`);
  return { slotBytes, bloc: found.BLOC, heap: found.HEAP, stack: found.STAC, keys: found.KEYS, names: found.NAME, symbols: found.SYMB };
}

/** The heap as a graph: slot 1..count (0 is none), each slot's kind, ID, next and its references. */
export class XsHeap {
  readonly count: number;
  readonly kind: Int8Array;
  readonly id: Uint32Array;
  readonly next: Uint32Array;
  /** chunk bytes each slot holds (a string's, an array's, a table's, code...) */
  readonly chunk: Uint32Array;
  /** first property slot → its instance, for slots in an instance's chain */
  readonly owner: Uint32Array;
  readonly edges: number[][];
  readonly roots: number[];
  /** the roots by where they come from (the stack, the key, name and symbol tables), for matching two heaps */
  readonly rootGroups: number[][];
  readonly #keyStrings: Array<string | null>;
  readonly #a: Atoms;
  readonly #heapView: DataView;
  readonly #blocView: DataView;

  constructor(bytes: Uint8Array) {
    const a = (this.#a = atoms(bytes));
    const count = a.heap.length / 32;
    this.count = count;
    const hv = (this.#heapView = new DataView(a.heap.buffer, a.heap.byteOffset, a.heap.byteLength));
    const bv = (this.#blocView = new DataView(a.bloc.buffer, a.bloc.byteOffset, a.bloc.byteLength));
    this.kind = new Int8Array(count + 1);
    this.id = new Uint32Array(count + 1);
    this.next = new Uint32Array(count + 1);
    this.chunk = new Uint32Array(count + 1);
    this.owner = new Uint32Array(count + 1);
    const edges: number[][] = (this.edges = []);
    edges.push([]);
    const p = (v: DataView, at: number) => v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;
    const chunkSize = (offset: number) => (offset >= 16 && offset <= bv.byteLength ? bv.getInt32(offset - 16, true) & 0x7fffffff : 0);
    // references of a slot read at `at` of `v`, chunks it holds charged to `self`
    const refs = (v: DataView, at: number, self: number, out: number[]) => {
      const k = v.getInt8(at + 8);
      if (ONE_POINTER.has(k)) {
        const r = p(v, at + 16);
        if (r) out.push(r);
      } else if (TWO_POINTERS.has(k)) {
        const r1 = p(v, at + 16);
        const r2 = p(v, at + 24);
        if (r1) out.push(r1);
        if (r2) out.push(r2);
      } else if (k === KIND.INSTANCE) {
        const r = p(v, at + 24);
        if (r) out.push(r);
      } else if (k === KIND.CODE) {
        const c = p(v, at + 16);
        if (c) this.chunk[self] += chunkSize(c);
        const r = p(v, at + 24);
        if (r) out.push(r);
      } else if (k === KIND.REGEXP) {
        for (const off of [16, 24]) {
          const c = p(v, at + off);
          if (c) this.chunk[self] += chunkSize(c);
        }
      } else if (BYTE_CHUNK.has(k)) {
        const c = p(v, at + 16);
        if (c) this.chunk[self] += chunkSize(c);
      } else if (SLOT_ARRAY.has(k)) {
        const c = p(v, at + 16);
        if (c) {
          const size = chunkSize(c);
          this.chunk[self] += size;
          // the elements are slots inside the chunk: what they hold is the array's
          for (let e = c; e + 32 <= c + size - 16; e += 32) refs(bv, e, self, out);
        }
      } else if (TABLE.has(k)) {
        const c = p(v, at + 16);
        const n = v.getInt32(at + 24, true);
        if (c) {
          this.chunk[self] += chunkSize(c);
          for (let e = 0; e < n; e++) {
            const r = p(bv, c + 8 * e);
            if (r) out.push(r);
          }
        }
      }
    };
    for (let i = 1; i <= count; i++) {
      const at = (i - 1) * 32;
      this.kind[i] = hv.getInt8(at + 8);
      this.id[i] = hv.getUint32(at + 12, true);
      this.next[i] = p(hv, at);
      const out: number[] = [];
      refs(hv, at, i, out);
      edges.push(out);
    }
    // an instance owns its chain of properties: edges instance → each, not property → next
    const member = new Uint8Array(count + 1);
    for (let i = 1; i <= count; i++) {
      if (this.kind[i] !== KIND.INSTANCE) continue;
      for (let s = this.next[i], guard = 0; s && guard < 100_000; s = this.next[s], guard++) {
        member[s] = 1;
        this.owner[s] = i;
        edges[i].push(s);
      }
    }
    // so does a list (a Map's or a Set's entries) and a private slot (an instance's #fields)
    for (let i = 1; i <= count; i++) {
      const k = this.kind[i];
      if (k !== KIND.LIST && k !== KIND.PRIVATE) continue;
      const first = p(hv, (i - 1) * 32 + (k === KIND.LIST ? 16 : 24));
      for (let s = first, guard = 0; s && guard < 100_000; s = this.next[s], guard++) {
        member[s] = 1;
        this.owner[s] = i;
        if (s !== first) edges[i].push(s);
      }
    }
    for (let i = 1; i <= count; i++) if (!member[i] && this.next[i] && this.kind[i] !== KIND.INSTANCE) edges[i].push(this.next[i]);
    const stackRoots: number[] = [];
    const sv = new DataView(a.stack.buffer, a.stack.byteOffset, a.stack.byteLength);
    // from the stack's bottom (its last slots), where the global object and the realm sit
    for (let at = a.stack.length - 32; at >= 0; at -= 32) refs(sv, at, 0, stackRoots);
    this.rootGroups = [stackRoots];
    for (const t of [a.keys, a.names, a.symbols]) {
      const group: number[] = [];
      const tv = new DataView(t.buffer, t.byteOffset, t.byteLength);
      for (let at = 0; at + 8 <= t.length; at += 8) group.push(p(tv, at));
      this.rootGroups.push(group);
    }
    this.roots = this.rootGroups.flat().filter((r) => r > 0);
    this.#keyStrings = [];
    const kv = new DataView(a.keys.buffer, a.keys.byteOffset, a.keys.byteLength);
    for (let at = 0; at + 8 <= a.keys.length; at += 8) {
      const k = p(kv, at);
      this.#keyStrings.push(k && (this.kind[k] === KIND.KEY || this.kind[k] === KIND.KEY_X) ? this.#cString(p(hv, (k - 1) * 32 + 16)) : null);
    }
  }

  #cString(offset: number): string {
    const b = this.#a.bloc;
    let end = offset;
    while (end < b.length && b[end] !== 0) end++;
    return new TextDecoder().decode(b.subarray(offset, end));
  }

  /** the key an ID names (a property, a variable, a function), or null */
  key(id: number): string | null {
    return id > 0 && id < this.#keyStrings.length ? this.#keyStrings[id] : null;
  }

  prototypeOf(i: number): number {
    return this.kind[i] === KIND.INSTANCE ? this.#heapView.getUint32((i - 1) * 32 + 24, true) : 0;
  }

  /** the slot a reference slot points at */
  target(i: number): number {
    return this.#heapView.getUint32((i - 1) * 32 + 16, true);
  }

  /** a function instance's name (its code slot's ID), or null */
  functionName(i: number): string | null {
    const code = this.next[i];
    if (this.kind[i] !== KIND.INSTANCE || !code) return null;
    if (this.kind[code] !== KIND.CODE && this.kind[code] !== KIND.CALLBACK) return null;
    return this.key(this.id[code]) ?? "(anonymous)";
  }

  /** an instance's own property `name`: the slot in its chain with that key */
  property(i: number, name: string): number {
    for (let s = this.next[i], guard = 0; s && guard < 100_000; s = this.next[s], guard++) if (this.key(this.id[s]) === name) return s;
    return 0;
  }

  /** what an instance is: a function's name, its class (prototype.constructor's name), a kind */
  describe(i: number): string {
    const k = this.kind[i];
    if (k !== KIND.INSTANCE) return kindName(k);
    const fn = this.functionName(i);
    if (fn !== null) return `function ${fn}`;
    const first = this.next[i];
    if (first && SLOT_ARRAY.has(this.kind[first])) return "Array";
    if (first && this.kind[first] === KIND.CLOSURE) return "environment";
    const proto = this.prototypeOf(i);
    if (!proto) return "Object(null)";
    const ctor = this.property(proto, "constructor");
    if (ctor && this.kind[ctor] === KIND.REFERENCE) {
      const name = this.functionName(this.target(ctor));
      if (name) return name;
    }
    if (first) return kindName(this.kind[first]);
    return "Object";
  }

  /**
   * Immediate dominators from a virtual root (0) over the roots' edges (Cooper, Harvey and
   * Kennedy's iterative algorithm over a reverse postorder); -1 for a slot nothing reaches.
   */
  dominators(): Int32Array {
    const n = this.count;
    const order: number[] = [];
    const post = new Int32Array(n + 1).fill(-1);
    const seen = new Uint8Array(n + 1);
    // iterative DFS for the postorder
    const stack: Array<[number, number]> = [[0, 0]];
    seen[0] = 1;
    const succ = (v: number) => (v === 0 ? this.roots : this.edges[v]);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const s = succ(top[0]);
      if (top[1] < s.length) {
        const w = s[top[1]++];
        if (w > 0 && w <= n && !seen[w]) {
          seen[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        post[top[0]] = order.length;
        order.push(top[0]);
        stack.pop();
      }
    }
    const preds: number[][] = Array.from({ length: n + 1 }, () => []);
    for (let v = 0; v <= n; v++) if (seen[v]) for (const w of succ(v)) if (w > 0 && w <= n) preds[w].push(v);
    const idom = new Int32Array(n + 1).fill(-1);
    idom[0] = 0;
    const intersect = (a: number, b: number) => {
      while (a !== b) {
        while (post[a] < post[b]) a = idom[a];
        while (post[b] < post[a]) b = idom[b];
      }
      return a;
    };
    for (let changed = true; changed; ) {
      changed = false;
      for (let k = order.length - 2; k >= 0; k--) {
        const v = order[k];
        let d = -1;
        for (const u of preds[v]) if (idom[u] !== -1) d = d === -1 ? u : intersect(u, d);
        if (d !== -1 && idom[v] !== d) {
          idom[v] = d;
          changed = true;
        }
      }
    }
    return idom;
  }
}

/**
 * The slots of `now` that were already in `before` (an earlier snapshot of the same machine):
 * both heaps walked together from their roots, a reference followed where it leaves the same place
 * (the same root, the same position among a slot's references) to a slot of the same kind. What
 * `now` holds that this walk does not reach through the old heap's shape was made since. The
 * answer maps each old slot of `now` to its slot in `before` (0: made since).
 */
export function oldSlots(before: XsHeap, now: XsHeap): Uint32Array {
  const was = new Uint32Array(now.count + 1);
  const taken = new Uint8Array(before.count + 1);
  const queue: number[] = [];
  const pair = (b: number, n: number) => {
    if (b <= 0 || n <= 0 || b > before.count || n > now.count || was[n] || taken[b]) return;
    if (before.kind[b] !== now.kind[n]) return;
    was[n] = b;
    taken[b] = 1;
    queue.push(b, n);
  };
  for (let g = 0; g < now.rootGroups.length; g++) {
    const gb = before.rootGroups[g];
    const gn = now.rootGroups[g];
    for (let k = 0; k < Math.min(gb.length, gn.length); k++) pair(gb[k], gn[k]);
  }
  for (let q = 0; q < queue.length; q += 2) {
    const eb = before.edges[queue[q]];
    const en = now.edges[queue[q + 1]];
    for (let k = 0; k < Math.min(eb.length, en.length); k++) pair(eb[k], en[k]);
  }
  return was;
}

/** What a part of the heap holds that was made since the earlier snapshot. */
export interface Grown {
  slots: number;
  /** chunk bytes of the slots made since, and what old slots' chunks grew by (an array's, a table's) */
  chunkBytes: number;
}

/**
 * A heap set against an earlier snapshot of the same machine (bench/memory.ts: against the bundle
 * evaluated and not booted, which a board keeps in flash): which slots were made since, and who
 * keeps them alive.
 */
export class HeapGrowth {
  readonly before: HeapCensus;
  readonly now: HeapCensus;
  /** now's slot → its slot in `before`, 0 for a slot made since */
  readonly was: Uint32Array;

  constructor(before: HeapCensus, now: HeapCensus) {
    this.before = before;
    this.now = now;
    this.was = oldSlots(before.heap, now.heap);
  }

  /** slots made since the earlier snapshot, all of them */
  made(): number {
    let n = 0;
    for (let v = 1; v <= this.now.heap.count; v++) if (!this.was[v]) n++;
    return n;
  }

  /**
   * The cells of the variables named `name` (a closure slot's key: a module's top-level binding
   * as the bundle names it), distinct.
   */
  variables(name: string): number[] {
    const h = this.now.heap;
    const cells = new Set<number>();
    for (let i = 1; i <= h.count; i++) if (h.kind[i] === KIND.CLOSURE && h.key(h.id[i]) === name) cells.add(h.target(i));
    return [...cells];
  }

  /**
   * What `v` keeps alive (it and what it dominates) that was made since, or that an old slot's
   * chunk grew by; not going into a slot whose key is in `handedOver` (what another part gave it
   * to keep: a callback).
   */
  heldBy(v: number, handedOver: ReadonlySet<string> = new Set(), mark?: Uint8Array): Grown {
    const c = this.now;
    const h = c.heap;
    let slots = 0;
    let chunkBytes = 0;
    const stack = [v];
    while (stack.length) {
      const x = stack.pop()!;
      const name = h.key(h.id[x]);
      if (x !== v && name !== null && handedOver.has(name)) continue;
      const b = this.was[x];
      if (mark) mark[x] = 1;
      if (!b) {
        slots++;
        chunkBytes += h.chunk[x];
      } else chunkBytes += Math.max(0, h.chunk[x] - this.before.heap.chunk[b]);
      for (const k of c.children[x]) stack.push(k);
    }
    return { slots, chunkBytes };
  }

  /**
   * The slots made since, by what holds them: each new object an old one (or a root) keeps is
   * counted with what it keeps, under its class or what it is; largest first. `leaveOut`: slots
   * marked by heldBy (a part already counted apart).
   */
  byHolder(leaveOut?: Uint8Array): Array<{ what: string; objects: number; slots: number }> {
    const c = this.now;
    const h = c.heap;
    const out = new Map<string, { what: string; objects: number; slots: number }>();
    for (let v = 1; v <= h.count; v++) {
      if (this.was[v] || leaveOut?.[v]) continue;
      const d = c.idom[v];
      if (d > 0 && !this.was[d]) continue; // inside a new object counted at its top
      // a new reference (a Map's value, an array's element) is named by what it refers to
      const what = h.kind[v] === KIND.INSTANCE ? h.describe(v) : h.kind[v] === KIND.REFERENCE ? h.describe(h.target(v)) : kindName(h.kind[v]);
      const row = out.get(what) ?? { what, objects: 0, slots: 0 };
      row.objects++;
      row.slots += this.heldBy(v).slots;
      out.set(what, row);
    }
    return [...out.values()].sort((a, b) => b.slots - a.slots);
  }
}

const KIND_NAMES: Record<number, string> = Object.fromEntries(Object.entries(KIND).map(([k, v]) => [v, k.toLowerCase()]));
function kindName(k: number): string {
  return KIND_NAMES[k] ?? `kind ${k}`;
}

/** A heap and its tree of dominators: who keeps each slot alive. */
export class HeapCensus {
  readonly heap: XsHeap;
  readonly idom: Int32Array;
  readonly children: number[][];

  constructor(bytes: Uint8Array) {
    const heap = (this.heap = new XsHeap(bytes));
    const idom = (this.idom = heap.dominators());
    this.children = Array.from({ length: heap.count + 1 }, () => []);
    for (let v = 1; v <= heap.count; v++) if (idom[v] >= 0) this.children[idom[v]].push(v);
  }

  /** slots nothing reached from the roots (kept by the engine by other means) */
  unreached(): number {
    let u = 0;
    for (let v = 1; v <= this.heap.count; v++) if (this.idom[v] < 0) u++;
    return u;
  }
}
