import type { Seconds } from "../core/time";
import { COMMAND, Rejection } from "./frame";
import type { SensorHubConfig } from "./hub-config";
import { MAX_FILES, MAX_FILE_BYTES, MediaManifest, MediaStore, PART_BYTES } from "./media";
import { captureArgs, decodeMediaChunk, mediaChunkOk, resendArgs } from "./payload";

/** One file of a camera being received, gathered into parts of PART_BYTES. */
interface Transfer {
  unit: MediaManifest;
  fileIndex: number;
  /** number of this file inside the unit (storage key) */
  slot: number;
  total: number;
  offset: number;
  part: Uint8Array;
  fill: number;
  parts: number;
}

interface Capture {
  unit: MediaManifest;
  mediaId: number;
  /** camera → files it announced (null until its first chunk) */
  expected: Map<string, number | null>;
  /** camera → files finished */
  done: Map<string, number>;
  deadline: Seconds;
  /** the CAPTURE command's arguments, and per camera the counter of the last one sent (0 once answered) */
  args: Uint8Array;
  unanswered: Map<string, number>;
  tries: number;
  retryAt: Seconds;
  /** what the cameras were asked for: captureImages JPEGs and one clip each */
  images: number;
  clips: number;
}

export interface CapturePorts {
  media: MediaStore;
  config: SensorHubConfig;
  /** sends a command to a camera of the table: its counter (0 without a link), null if it left the table */
  command(camera: string, op: number, args: Uint8Array): number | null;
  /** a MEDIA frame refused */
  reject(why: Rejection): void;
  /** the unit is closed: complete, or at its deadline with what arrived */
  finished(unit: number, complete: boolean, t: Seconds): void;
}

const RETRY_SECONDS = 2;
const TRIES = 3;

/**
 * The capture session of an alarm: CAPTURE asked of its cameras (again while one does not answer),
 * their MEDIA chunks put back together in order into the media unit (a gap asks for a RESEND from
 * what arrived), closed when every camera delivered every file it announced, or at the deadline.
 * One capture at a time: an alarm during one shares its unit.
 */
export class CaptureSession {
  #p: CapturePorts;
  #capture: Capture | null = null;
  #transfers = new Map<string, Transfer>();
  #repeats = 0;
  #refused = 0;
  #gaps = 0;

  constructor(ports: CapturePorts) {
    this.#p = ports;
  }

  /** CAPTUREs sent again, captures refused for a full store, gaps that asked for a RESEND. */
  counters(): { captureRepeats: number; mediaRefused: number; mediaGaps: number } {
    return { captureRepeats: this.#repeats, mediaRefused: this.#refused, mediaGaps: this.#gaps };
  }

  /** Starts a capture for alarm `seq` from `cameras`: the unit's id and what was asked, or null. */
  start(seq: number, cameras: string[], t: Seconds): { media: number; images: number; clips: number } | null {
    if (cameras.length === 0) return null;
    const running = this.#capture;
    if (running) return { media: running.unit.id, images: running.images, clips: running.clips };
    const media = this.#p.media;
    if (media.full) {
      this.#refused++;
      return null;
    }
    const mediaId = seq & 0xffff;
    const unit = media.begin(mediaId, seq, t, cameras.slice());
    const cfg = this.#p.config;
    const args = captureArgs(mediaId, cfg.captureImages, cfg.captureSeconds, 1);
    const cap: Capture = {
      unit,
      mediaId,
      expected: new Map(cameras.map((c) => [c, null])),
      done: new Map(cameras.map((c) => [c, 0])),
      deadline: t + cfg.captureSeconds + cfg.mediaTimeoutSeconds,
      args,
      unanswered: new Map(),
      tries: 1,
      retryAt: t + RETRY_SECONDS,
      images: cameras.length * cfg.captureImages,
      clips: cameras.length, // the CAPTURE's last argument asks each camera for one clip
    };
    this.#capture = cap;
    for (const c of cameras) cap.unanswered.set(c, this.#p.command(c, COMMAND.CAPTURE, args) ?? 0);
    return { media: mediaId, images: cap.images, clips: cap.clips };
  }

  /** A camera answered a command with this counter: a CAPTURE's answer stops its repeats. */
  answered(camera: string, counter: number): void {
    const cap = this.#capture;
    if (cap && cap.unanswered.get(camera) === counter) cap.unanswered.delete(camera);
  }

  /** The camera was disconnected: the file it was sending starts over if it comes back. */
  lost(camera: string): void {
    this.#transfers.delete(camera);
  }

  /** A MEDIA frame's payload from `camera` (its size already checked). */
  chunk(camera: string, payload: Uint8Array, t: Seconds): void {
    const cap = this.#capture;
    const c = decodeMediaChunk(payload);
    if (!cap || cap.mediaId !== c.mediaId || !cap.expected.has(camera)) return this.#p.reject("unknown");
    if (!mediaChunkOk(c, MAX_FILE_BYTES) || c.kind === null) return this.#p.reject("malformed");
    const announced = cap.expected.get(camera);
    if (announced === null) {
      if (cap.unit.files.length + c.files > MAX_FILES) return this.#p.reject("malformed");
      cap.expected.set(camera, c.files);
    } else if (announced !== c.files) return this.#p.reject("malformed");
    const done = cap.done.get(camera) as number;
    if (c.file < done) return; // a repeat of a finished file
    let tr = this.#transfers.get(camera);
    if (!tr || tr.fileIndex !== c.file) {
      if (c.file !== done || c.offset !== 0) {
        this.#gaps++;
        return this.#resend(camera, c.mediaId, done, tr && tr.fileIndex === done ? tr.offset : 0);
      }
      tr = { unit: cap.unit, fileIndex: c.file, slot: this.#nextSlot(cap), total: c.total, offset: 0, part: new Uint8Array(PART_BYTES), fill: 0, parts: 0 };
      this.#transfers.set(camera, tr);
    }
    if (c.offset !== tr.offset || c.total !== tr.total) {
      if (c.offset > tr.offset) {
        this.#gaps++;
        this.#resend(camera, c.mediaId, c.file, tr.offset);
      }
      return; // behind: a repeat
    }
    this.#take(cap, tr, c.data);
    if (tr.offset === tr.total) {
      const name = c.kind === "wav" ? `${camera}.wav` : `${camera}-${c.file + 1}.jpg`;
      this.#p.media.addFile(cap.unit, { name, kind: c.kind, camera, size: tr.total, parts: tr.parts });
      this.#transfers.delete(camera);
      cap.done.set(camera, done + 1);
      if (this.#complete(cap)) this.#finish(true, t);
    }
  }

  /** Timeouts: CAPTURE asked again of cameras that did not answer, the unit closed at its deadline. */
  tick(t: Seconds): void {
    const cap = this.#capture;
    if (cap && t >= cap.retryAt && cap.unanswered.size > 0) {
      // a camera has not answered CAPTURE: the command or its answer was lost; ask again
      // (a camera takes a repeated CAPTURE of the same media id as the same request)
      if (cap.tries < TRIES) {
        cap.tries++;
        cap.retryAt = t + RETRY_SECONDS;
        for (const id of Array.from(cap.unanswered.keys())) {
          const counter = this.#p.command(id, COMMAND.CAPTURE, cap.args);
          if (counter !== null) cap.unanswered.set(id, counter);
        }
        this.#repeats++;
      } else cap.unanswered.clear();
    }
    if (this.#capture && t >= this.#capture.deadline) this.#finish(false, t);
  }

  /** The next time `tick` has work, or null. */
  wake(): Seconds | null {
    const cap = this.#capture;
    if (!cap) return null;
    return cap.unanswered.size > 0 && cap.retryAt < cap.deadline ? cap.retryAt : cap.deadline;
  }

  #take(cap: Capture, tr: Transfer, data: Uint8Array): void {
    let i = 0;
    while (i < data.length) {
      const take = Math.min(PART_BYTES - tr.fill, data.length - i);
      tr.part.set(data.subarray(i, i + take), tr.fill);
      tr.fill += take;
      i += take;
      tr.offset += take;
      if (tr.fill === PART_BYTES || tr.offset === tr.total) {
        this.#p.media.writePart(cap.unit.id, tr.slot, tr.parts++, tr.part.slice(0, tr.fill));
        tr.fill = 0;
      }
    }
  }

  #nextSlot(cap: Capture): number {
    let slot = cap.unit.files.length;
    for (const tr of this.#transfers.values()) if (tr.unit === cap.unit && tr.slot >= slot) slot = tr.slot + 1;
    return slot;
  }

  #resend(camera: string, mediaId: number, file: number, offset: number): void {
    this.#p.command(camera, COMMAND.RESEND, resendArgs(mediaId, file, offset));
  }

  #complete(cap: Capture): boolean {
    for (const [cam, files] of cap.expected) if (files === null || (cap.done.get(cam) as number) < files) return false;
    return true;
  }

  #finish(complete: boolean, t: Seconds): void {
    const cap = this.#capture;
    if (!cap) return;
    this.#capture = null;
    for (const [cam, tr] of this.#transfers) if (tr.unit === cap.unit) this.#transfers.delete(cam);
    this.#p.media.finish(cap.unit, complete);
    this.#p.finished(cap.unit.id, complete, t);
  }
}
