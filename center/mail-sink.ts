import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";

export interface MailSink {
  readonly port: number;
  readonly dir: string;
  /** messages received so far: envelope and where the raw message was written */
  readonly received: Array<{ from: string; to: string[]; file: string; bytes: number }>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback that keeps every message as an .eml file: the demo's inbox, so
 * `timeguard start` and `timeguard scenario` show notifications arriving without a mail provider.
 */
export async function startMailSink(dir: string, port = 0): Promise<MailSink> {
  mkdirSync(dir, { recursive: true });
  const received: MailSink["received"] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    size: 20 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const file = join(dir, `${Date.now()}-${received.length + 1}.eml`);
        writeFileSync(file, raw);
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          file,
          bytes: raw.length,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    port: address.port,
    dir,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
