// Moddable SDK `timer` module (modules/base/timer), only what the firmware uses.
declare module "timer" {
  type TimerID = object;
  type TimerCallback = (id: TimerID) => void;
  const Timer: {
    /** Calls back once after `interval` ms, then every `repeat` ms when given. */
    set(callback: TimerCallback, interval?: number, repeat?: number): TimerID;
    repeat(callback: TimerCallback, interval: number): TimerID;
    schedule(id: TimerID, interval?: number, repeat?: number): void;
    clear(id: TimerID | undefined): void;
  };
  export default Timer;
}
