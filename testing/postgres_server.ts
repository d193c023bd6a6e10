// Test helper: starts a throwaway PostgreSQL server on a free loopback
// port, in a temporary data directory it removes when stopped, for the tests
// of the Postgres store. PostgreSQL refuses to run as root, so under root the
// server runs as the `postgres` user that Debian's package creates. Not part
// of the public API.

import { execFile, execFileSync } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { freePort } from "./free_port.ts";
import { cleanUpAfterExit } from "./watchdog.ts";

const run = promisify(execFile);

/** A running PostgreSQL server that the tests own. */
export interface PostgresServer {
  /** The loopback port it listens on. */
  port: number;
  /**
   * `postgres://postgres@127.0.0.1:<port>/postgres`: the superuser, with
   * no password (the server trusts loopback connections).
   */
  url: string;
  /** Stops the server at once (no checkpoint) and removes its data directory. */
  stop(): Promise<void>;
}

// Debian's postgresql package puts each major version's programs here; the
// newest one installed is used.
const VERSIONS = "/usr/lib/postgresql";
const BIN = join(
  VERSIONS,
  String(
    Math.max(
      ...(existsSync(VERSIONS) ? readdirSync(VERSIONS) : []).map(Number)
        .filter(Number.isInteger),
    ),
  ),
  "bin",
);
const START_ATTEMPTS = 5;

/**
 * Creates a database cluster in a temporary directory and starts PostgreSQL
 * on a free port of 127.0.0.1; resolves once it accepts connections.
 * Durability is off (`fsync=off`): the data is thrown away anyway.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const folder = mkdtempSync(join(tmpdir(), "x-session-postgres-"));
  const data = join(folder, "data");
  const asOwner = ownerOf(folder);
  let lastError: unknown;
  try {
    await asOwner("initdb", [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = await freePort();
      if (port === undefined) continue;
      const settings = `-p ${port} -k ${folder} ` +
        "-c listen_addresses=127.0.0.1 -c fsync=off";
      try {
        await asOwner("pg_ctl", [
          "-D",
          data,
          "-o",
          settings,
          "-l",
          join(folder, "server.log"),
          "-w",
          "start",
        ]);
      } catch (error) {
        // Most likely the port was taken in the meantime: try another.
        lastError = error;
        continue;
      }
      const stopCommand = ["-D", data, "-m", "immediate", "-w", "stop"];
      // A test run that dies before `stop` must not leave a server behind.
      const callOff = cleanUpAfterExit([
        commandLine("pg_ctl", stopCommand),
        ["rm", "-rf", folder],
      ]);
      return {
        port,
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        async stop() {
          callOff();
          await asOwner("pg_ctl", stopCommand).catch(() => {
            // Already stopped.
          });
          rmSync(folder, { recursive: true, force: true });
        },
      };
    }
  } catch (error) {
    lastError = error;
  }
  rmSync(folder, { recursive: true, force: true });
  throw new Error(
    `Could not start PostgreSQL from ${VERSIONS}; install it with ` +
      "`apt-get install postgresql`.",
    { cause: lastError },
  );
}

// PostgreSQL refuses to run as root: under root, hand the folder to the
// postgres user and run its programs through runuser.
function ownerOf(folder: string) {
  if (process.getuid?.() === 0) {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }));
    chownSync(folder, id("-u"), id("-g"));
  }
  return (program: string, args: string[]) => {
    const [command, ...rest] = commandLine(program, args);
    return run(command, rest, { cwd: folder });
  };
}

function commandLine(program: string, args: string[]): string[] {
  const command = [join(BIN, program), ...args];
  return process.getuid?.() === 0
    ? ["runuser", "-u", "postgres", "--", ...command]
    : command;
}
