import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { createCsrfProtection } from "./csrf.ts";
import { createCookie } from "./cookie.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { withSession } from "./middleware.ts";
import { createSession, type Session } from "./session.ts";

const SELF = "https://app.example.test";
const TRUSTED = "https://admin.example.test";

function post(
  headers: Record<string, string>,
  body?: BodyInit,
  method = "POST",
): Request {
  return new Request(`${SELF}/account`, { method, headers, body });
}

/** A session with its token, and a form from this site that carries it. */
function formWithToken() {
  const csrf = createCsrfProtection();
  const session = createSession();
  const token = csrf.token(session);
  const request = post(
    { Origin: SELF },
    new URLSearchParams({ name: "Ada", _csrf: token }),
  );
  return { csrf, session, token, request };
}

describe("csrf", () => {
  it("csrf: safe methods pass with no token and no origin check", async () => {
    const csrf = createCsrfProtection();
    const session = createSession();
    for (const method of ["GET", "HEAD", "OPTIONS"]) {
      const request = new Request(`${SELF}/`, {
        method,
        headers: {
          Origin: "https://evil.example",
          "Sec-Fetch-Site": "cross-site",
        },
      });
      assert.equal(await csrf.check(request, session), undefined, method);
    }
  });

  it("csrf: an unsafe method in lower case or outside the usual four is checked like POST", async () => {
    const csrf = createCsrfProtection();
    const session = createSession();
    csrf.token(session);
    const headers = { Origin: SELF, "Sec-Fetch-Site": "same-origin" };
    // Request upper-cases only the methods of the Fetch standard: "patch"
    // stays "patch" (but in Bun).
    for (const method of ["post", "patch", "PROPPATCH", "MKCOL"]) {
      assert.match(
        (await csrf.check(post(headers, undefined, method), session))!,
        /carries no CSRF token/,
        method,
      );
    }
  });

  it("csrf: the token passes in the header, an urlencoded form and a multipart form", async () => {
    const csrf = createCsrfProtection();
    const session = createSession();
    const token = csrf.token(session);
    const same = { "Sec-Fetch-Site": "same-origin", Origin: SELF };
    assert.equal(
      await csrf.check(post({ ...same, "X-CSRF-Token": token }), session),
      undefined,
    );
    const form = new URLSearchParams({ name: "Ada", _csrf: token });
    assert.equal(await csrf.check(post(same, form), session), undefined);
    const multipart = new FormData();
    multipart.set("_csrf", token);
    assert.equal(await csrf.check(post(same, multipart), session), undefined);
  });

  it("csrf: the handler can still read a form the guard read the token from", async () => {
    const { csrf, session, request } = formWithToken();
    assert.equal(await csrf.check(request, session), undefined);
    assert.equal((await request.formData()).get("name"), "Ada");
  });

  it("csrf: checking a form whose body the app already read rejects with an error that says to check first, not the error of clone()", async () => {
    const { csrf, session, token, request } = formWithToken();
    await request.formData();
    await assert.rejects(csrf.check(request, session), {
      name: "TypeError",
      message: "csrf.check: the request's body was already read, so its " +
        'form field "_csrf" cannot be. Call check before reading the body ' +
        '(csrf.protect does), or send the token in the "X-CSRF-Token" ' +
        "header.",
    });
    // The header needs no body.
    const sent = post({ Origin: SELF, "X-CSRF-Token": token }, "{}");
    await sent.text();
    assert.equal(await csrf.check(sent, session), undefined);
  });

  it("csrf: a session keeps its token until its id is regenerated", () => {
    const csrf = createCsrfProtection();
    const session = createSession();
    const first = csrf.token(session);
    assert.match(first, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(csrf.token(session), first);
    session.regenerateId();
    assert.notEqual(csrf.token(session), first);
    assert.notEqual(csrf.token(createSession()), first);
  });

  it("csrf: the token is HMAC-SHA256 of the session id under the session's key, so tokens issued before stay valid", () => {
    const csrf = createCsrfProtection();
    for (const id of ["Y2KO7syTmdMPIlnPIBlklDNvxY9_NjGb", "café ☃ id"]) {
      const session = createSession(id);
      const token = csrf.token(session);
      const key = session.get("@x/session/csrf") as string;
      assert.equal(
        token,
        createHmac("sha256", key).update(id).digest("base64url"),
      );
    }
  });

  it("csrf: a form longer than maxFormBytes is refused, and a streamed one is read no further than the limit", async () => {
    const csrf = createCsrfProtection({ maxFormBytes: 100 });
    const session = createSession();
    const token = csrf.token(session);
    const long = new URLSearchParams({ _csrf: token, pad: "x".repeat(100) });
    assert.match(
      (await csrf.check(post({ Origin: SELF }, long), session))!,
      /no CSRF token/,
    );
    let pulled = 0;
    const endless = new ReadableStream({
      pull(controller) {
        // Bounded all the same: 1,000 chunks of 64 bytes at most.
        if (++pulled > 1000) return controller.close();
        controller.enqueue(new TextEncoder().encode(`_csrf=${token}&`));
      },
    });
    const request = new Request(`${SELF}/account`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: endless,
      duplex: "half",
    } as RequestInit);
    assert.match((await csrf.check(request, session))!, /no CSRF token/);
    assert.ok(pulled < 10, `${pulled} chunks were read for a 100-byte limit`);
  });

  it("csrf: a refusal is a 403 that says why in development and only Forbidden in production", async () => {
    const session = createSession();
    for (const development of [true, false]) {
      const csrf = createCsrfProtection({ development });
      let ran = false;
      const handler = csrf.protect(() => {
        ran = true;
        return new Response("done");
      });
      const response = await handler(post({ Origin: SELF }), session, {});
      assert.equal(response.status, 403);
      assert.equal(ran, false);
      const text = await response.text();
      if (development) assert.match(text, /^Forbidden: .*no CSRF token/);
      else assert.equal(text, "Forbidden\n");
    }
  });

  it("csrf: a protected handler gets the server's second and third arguments, a Worker's env and ctx", async () => {
    const csrf = createCsrfProtection();
    const env = { SESSION_SECRET: "from the bindings" };
    const ctx = { waitUntil(_promise: Promise<unknown>) {} };
    let seen: unknown[] = [];
    const handler = csrf.protect<typeof env, typeof ctx>(
      (_request, _session, ...received) => {
        seen = received;
        return new Response();
      },
    );
    const get = new Request(`${SELF}/`);
    await handler(get, createSession(), env, ctx);
    assert.equal(seen[0], env);
    assert.equal(seen[1], ctx);
  });

  it("csrf: a trusted origin passes the origin check but still needs the token", async () => {
    const csrf = createCsrfProtection({ trustedOrigins: [TRUSTED] });
    const session = createSession();
    const headers = { Origin: TRUSTED, "Sec-Fetch-Site": "same-site" };
    assert.match((await csrf.check(post(headers), session))!, /no CSRF token/);
    assert.equal(
      await csrf.check(
        post({ ...headers, "X-CSRF-Token": csrf.token(session) }),
        session,
      ),
      undefined,
    );
  });

  it("csrf: bad options are refused with errors naming the option", () => {
    for (
      const [options, pattern] of [
        [{ trustedOrigins: ["https://a.example/"] }, /"trustedOrigins" item 0/],
        [{ trustedOrigins: ["a.example"] }, /"trustedOrigins" item 0/],
        [{ trustedOrigins: ["null"] }, /"trustedOrigins" item 0/],
        // deno-lint-ignore no-sparse-arrays
        [{ trustedOrigins: [, TRUSTED] }, /"trustedOrigins" item 0/],
        [{ trustedOrigins: TRUSTED }, /"trustedOrigins" must be an array/],
        [{ field: "" }, /"field" must be a non-empty string/],
        [{ header: 42 }, /"header" must be a non-empty string, got 42/],
        [{ maxFormBytes: -1 }, /"maxFormBytes"/],
      ] as const
    ) {
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => createCsrfProtection(options as any),
        pattern,
        JSON.stringify(options),
      );
    }
  });

  it("csrf: a token planted with a session is refused once the victim logs in with regenerateId(true)", async () => {
    const sessions = {
      cookie: createCookie("sid", {
        secrets: ["a secret for the csrf test of 32 bytes or more"],
      }),
      storage: createMemorySessionStorage(),
    };
    const csrf = createCsrfProtection();
    const app = withSession(
      sessions,
      csrf.protect((request, session) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/form") return new Response(csrf.token(session));
        if (pathname === "/login") {
          session.regenerateId(true);
          session.set("user", "victim");
          return new Response("logged in");
        }
        return new Response(`moved money for ${session.get("user")}`);
      }),
    );
    const cookieOf = (response: Response) =>
      response.headers.get("Set-Cookie")!.split(";")[0];
    const send = (path: string, cookie: string, token: string) =>
      app(
        new Request(`${SELF}${path}`, {
          method: "POST",
          headers: { Cookie: cookie, Origin: SELF, "X-CSRF-Token": token },
        }),
      );

    // The attacker gets a session and its token, and plants the cookie.
    const attacker = await app(new Request(`${SELF}/form`));
    const planted = cookieOf(attacker);
    const plantedToken = await attacker.text();
    // The victim's login page runs in the planted session and logs in.
    const login = await send("/login", planted, plantedToken);
    assert.equal(login.status, 200);
    const victim = cookieOf(login);
    assert.notEqual(victim, planted);

    const forged = await send("/transfer", victim, plantedToken);
    assert.equal(forged.status, 403);
    const page = await app(
      new Request(`${SELF}/form`, { headers: { Cookie: victim } }),
    );
    const fresh = await send("/transfer", victim, await page.text());
    assert.equal(await fresh.text(), "moved money for victim");
  });
});

// The origins a request may claim, relative to SELF.
const origins = {
  absent: null,
  self: SELF,
  trusted: TRUSTED,
  null: "null",
  "other scheme": "http://app.example.test",
  "other port": "https://app.example.test:8443",
  "explicit default port": "https://app.example.test:443",
  subdomain: "https://evil.app.example.test",
  sibling: "https://evil.example.test",
  "parent domain": "https://example.test",
  "trailing slash": "https://app.example.test/",
  "with a path": "https://app.example.test/account",
  "upper case": "HTTPS://APP.EXAMPLE.TEST",
  "no scheme": "app.example.test",
  "trailing dot": "https://app.example.test.",
  "user info": "https://user@app.example.test",
  "another site": "https://evil.example",
  "bare word": "evil",
} as const;

const tokenKinds = [
  "current",
  "absent",
  "empty",
  "old (before regenerateId)",
  "other session's",
  "one character changed",
  "truncated",
  "random",
] as const;

describe("csrf fuzz", () => {
  it("csrf: of generated unsafe requests, only those with the current token and an accepted origin pass", async () => {
    const csrf = createCsrfProtection({ trustedOrigins: [TRUSTED] });
    let accepted = 0;
    let refused = 0;
    let wronglyAccepted = 0;
    let wronglyRefused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("POST", "PUT", "PATCH", "DELETE"),
        // Weighted towards what passes, so that both outcomes are common.
        fc.oneof(
          { arbitrary: fc.constant("current" as const), weight: 3 },
          { arbitrary: fc.constantFrom(...tokenKinds), weight: 2 },
        ),
        fc.constantFrom("header", "urlencoded", "multipart"),
        fc.oneof(
          { arbitrary: fc.constantFrom("self", "absent"), weight: 2 },
          {
            arbitrary: fc.constantFrom(...Object.keys(origins)) as fc.Arbitrary<
              keyof typeof origins
            >,
            weight: 3,
          },
          {
            arbitrary: fc.stringMatching(/^[a-z][a-z0-9+.:\/-]{0,30}$/),
            weight: 1,
          },
        ),
        fc.constantFrom(
          undefined,
          "same-origin",
          "same-site",
          "cross-site",
          "none",
          "bogus",
        ),
        fc.string({ minLength: 1, maxLength: 60 }).filter((s) =>
          /^[\x21-\x7e]+$/.test(s)
        ),
        async (method, tokenKind, transport, originKey, site, random) => {
          const session = createSession();
          const old = csrf.token(session);
          session.regenerateId(true);
          const current = csrf.token(session);
          const other = csrf.token(createSession());
          const flipped = current.slice(0, -1) +
            (current.endsWith("A") ? "B" : "A");
          const sent = {
            current,
            absent: undefined,
            empty: "",
            "old (before regenerateId)": old,
            "other session's": other,
            "one character changed": flipped,
            truncated: current.slice(0, -1),
            random,
          }[tokenKind];
          const origin = originKey in origins
            ? origins[originKey as keyof typeof origins]
            : originKey;

          const headers: Record<string, string> = {};
          if (origin !== null) headers.Origin = origin;
          if (site !== undefined) headers["Sec-Fetch-Site"] = site;
          let body: BodyInit | undefined;
          if (transport === "header") {
            if (sent !== undefined) headers["X-CSRF-Token"] = sent;
          } else if (transport === "urlencoded") {
            body = new URLSearchParams(
              sent === undefined ? { a: "1" } : { a: "1", _csrf: sent },
            );
          } else {
            body = new FormData();
            body.set("a", "1");
            if (sent !== undefined) body.set("_csrf", sent);
          }

          const originOk = origin === TRUSTED || site === "same-origin" ||
            ((site === undefined || site === "none") &&
              (origin === null || origin === SELF));
          const valid = tokenKind === "current" && originOk;
          const problem = await csrf.check(
            post(headers, body, method),
            session as Session,
          );
          const passed = problem === undefined;
          if (passed) accepted++;
          else refused++;
          if (passed && !valid) wronglyAccepted++;
          if (!passed && valid) wronglyRefused++;
          assert.equal(
            passed,
            valid,
            `${method}, ${tokenKind} token in ${transport}, Origin ` +
              `${originKey}, Sec-Fetch-Site ${site}: ${problem}`,
          );
        },
      ),
      { numRuns: process.env.STRESS ? 20_000 : 2_000 },
    );
    console.log(
      `csrf fuzz: ${accepted} accepted (${wronglyAccepted} wrongly), ` +
        `${refused} refused (${wronglyRefused} wrongly)`,
    );
    assert.equal(wronglyAccepted, 0);
    assert.equal(wronglyRefused, 0);
    assert.ok(accepted > 0 && refused > 0, "both kinds were generated");
  });
});
