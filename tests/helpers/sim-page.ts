import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { chromiumPath } from "./chromium";
import { projectRoot } from "../../host-sim/project";

/** The simulator's web page in headless Chromium: what the page tests share. */

/** Chromium's flags for the tests: headless, and nothing that reaches beyond loopback. */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** `timeguard sim-web` in its own process on a free loopback port; resolves with its address. */
export async function startSimWeb(engine: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "sim-web", "--engine", engine, "--port", "0", "--start", "2026-04-16T19:00"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sim-web did not start: ${out}`)), 30_000);
    const look = () => {
      const m = /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", look);
    child.once("exit", (code) => reject(new Error(`sim-web exited with ${code}: ${out}`)));
  });
  return { url, child, output: () => out };
}

/** The page's LCD, row by row, as the firmware wrote it. */
export async function lcdText(page: Page): Promise<string[]> {
  return page.$$eval("#lcd .row", (rows) => rows.map((r) => (r as HTMLElement).dataset.text ?? ""));
}

/** Presses keys on the page's keypad, one click each. */
export async function click(page: Page, seq: string): Promise<void> {
  for (const k of seq) {
    await page.click(`#keypad button[data-key="${k}"]`);
    await page.waitForTimeout(20);
  }
}

/** Waits until LCD row `row` reads `text` (trailing blanks aside). */
export async function waitForLcd(page: Page, row: number, text: string): Promise<void> {
  await page.waitForFunction(
    ([r, t]) => (document.querySelectorAll("#lcd .row")[r as number] as HTMLElement | undefined)?.dataset.text?.trimEnd() === t,
    [row, text] as const,
    { timeout: 30_000 },
  );
}

/**
 * The page in headless Chromium (a fresh profile) on a `sim-web` of its own; `body` gets the page,
 * the server's address and the page's script errors. The simulator's output is logged when `body`
 * fails; browser, simulator and profile are closed and removed in any case.
 */
export async function withSimPage(t: ExecutionContext, engine: string, body: (page: Page, url: string, errors: string[]) => Promise<void>): Promise<void> {
  const { url, child, output } = await startSimWeb(engine);
  const profile = mkdtempSync(join(tmpdir(), "tg-chromium-"));
  let browser: BrowserContext | null = null;
  try {
    browser = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await body(page, url, errors);
  } catch (e) {
    t.log(output());
    throw e;
  } finally {
    if (browser) await browser.close();
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
    rmSync(profile, { recursive: true, force: true });
  }
}
