// Moddable SDK `time` module (typings/time.d.ts), only what the firmware uses.
declare module "time" {
  var Time: {
    /** Sets the real-time clock, in seconds since 1970. */
    set: (seconds: number) => void;
    /** Milliseconds, monotonic. */
    ticks: number;
  };
  export { Time as default };
}
