// Moddable SDK `timer` module (typings/timer.d.ts), same shape.
declare module "timer" {
  export type TimerCallback = (timer: Timer) => void;
  class Timer {
    private constructor();
    static set: (callback: TimerCallback, interval?: number, repeat?: number) => Timer;
    static repeat: (callback: TimerCallback, interval: number) => Timer;
    static schedule: (timer: Timer, interval?: number, repeat?: number) => void;
    static clear: (timer: Timer | undefined | null) => void;
    private brand: boolean;
  }
  export { Timer as default };
}
