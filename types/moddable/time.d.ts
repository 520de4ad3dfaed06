// Moddable SDK `time` module (modules/base/time), only what the firmware uses.
declare module "time" {
  const Time: {
    /** Sets the real-time clock, in seconds since 1970. */
    set(seconds: number): void;
    /** Milliseconds since boot, monotonic. */
    readonly ticks: number;
  };
  export default Time;
}
