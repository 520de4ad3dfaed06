// @agoric/xsnap ships JavaScript with JSDoc only; these are the parts host-sim/engines/xs-engine.ts uses.
declare module "@agoric/xsnap" {
  interface MeterUsage {
    meterType: string;
    compute: number | null;
    allocate: number | null;
    currentHeapCount: number | null;
  }
  interface RunResult {
    reply: Uint8Array;
    meterUsage: MeterUsage;
  }
  interface XSnapWorker {
    evaluate(code: string): Promise<RunResult>;
    issueCommand(message: Uint8Array): Promise<RunResult>;
    /** the machine's snapshot (xs/sources/xsSnapshot.c format), streamed */
    makeSnapshotStream(description?: string): AsyncGenerator<Uint8Array, void, undefined>;
    close(): Promise<void>;
    terminate(): Promise<void>;
  }
  interface XSnapOptions {
    name?: string;
    os: string;
    spawn: unknown;
    fs: unknown;
    stdout?: "ignore" | "inherit" | "pipe";
    stderr?: "ignore" | "inherit" | "pipe";
    meteringLimit?: number;
    handleCommand?: (request: Uint8Array) => Promise<Uint8Array>;
  }
  export function xsnap(options: XSnapOptions): Promise<XSnapWorker>;
}
