#!/usr/bin/env node
// A stand-in backend for developing and checking the web app before the real Agent Server
// runtime is available: Vite serves the app, and a fake control plane (sign-in, /me, assistants)
// plus the fake Agent Server of src/test/fake-agent/ answer /api/v1 and /agent on the same
// origin. It follows docs/agent-protocol.md as the unit tests do; it proves nothing about the real
// backend, only that the app and the e2e tests agree with the written contract.
//
//   node e2e/contract-server.mjs            then   ATRIUM_URL=http://127.0.0.1:5174 npm run e2e
//
//   CONTRACT_PORT        port to listen on                 (default 5174)
//   CONTRACT_TOKEN_MS    delay between streamed tokens     (default 60)
//   ATRIUM_DEMO_PASSWORD password of the demo users        (default atrium-demo)
import react from "@vitejs/plugin-react";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createServer } from "vite";

const port = Number(process.env.CONTRACT_PORT ?? "5174");
const password = process.env.ATRIUM_DEMO_PASSWORD ?? "atrium-demo";
const root = fileURLToPath(new URL("..", import.meta.url));
const org = { id: "00000000-0000-4000-8000-000000000001", slug: "demo", name: "Demo" };

/** @typedef {{ id: number, email: string, role: "admin" | "builder" | "end_user" | "viewer" }} DemoUser */
/** @type {DemoUser[]} */
const users = [
  { id: 1, email: "admin@demo.local", role: "admin" },
  { id: 2, email: "builder@demo.local", role: "builder" },
  { id: 3, email: "viewer@demo.local", role: "viewer" },
  { id: 4, email: "user@demo.local", role: "end_user" },
];
/** The server's ROLE_PERMISSIONS. */
const PERMISSIONS = {
  viewer: ["read"],
  end_user: ["read", "use_agents"],
  builder: ["read", "use_agents", "configure_agents"],
  admin: ["read", "use_agents", "configure_agents", "manage_org"],
};
/** @type {Map<string, DemoUser>} session id → user */
const sessions = new Map();

/** @param {DemoUser} user */
function me(user) {
  const name = user.email.split("@")[0] ?? "";
  return { id: user.id, email: user.email, name, is_staff: false, is_superuser: false, memberships: [{ org, role: user.role, permissions: PERMISSIONS[user.role] }] };
}

/** @param {string | undefined} header @param {string} name */
function cookie(header, name) {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return null;
}

/** @param {import("node:http").IncomingMessage} req */
async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(/** @type {Buffer} */ (chunk));
  return chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : undefined;
}

/** @param {import("node:http").ServerResponse} res @param {Response} response */
async function send(res, response) {
  res.statusCode = response.status;
  response.headers.forEach((value, key) => {
    res.appendHeader(key, value);
  });
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.on("close", () => {
    void reader.cancel().catch(() => undefined);
  });
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done || !value) break;
    res.write(value);
  }
  res.end();
}

/** @param {unknown} body @param {number} [status] @param {Record<string, string>} [headers] */
function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

/**
 * The fake backend, created on first use: it is TypeScript under src/test/, loaded through Vite.
 * @param {import("vite").ViteDevServer} vite
 */
async function loadBackend(vite) {
  const fake = /** @type {typeof import("../src/test/fake-agent/server.ts")} */ (
    /** @type {unknown} */ (await vite.ssrLoadModule("/src/test/fake-agent/server.ts"))
  );
  const assistants = [...fake.FAKE_ASSISTANTS];
  const agent = fake.createFakeAgent({ tokenDelayMs: Number(process.env.CONTRACT_TOKEN_MS ?? "60"), assistants });
  return { agent, assistants };
}

/** @param {import("vite").ViteDevServer} vite */
function backendMiddleware(vite) {
  /** @type {ReturnType<typeof loadBackend> | null} */
  let backend = null;
  /** @type {import("vite").Connect.NextHandleFunction} */
  return (req, res, next) => {
    backend ??= loadBackend(vite);
    void backend.then(({ agent, assistants }) => handle(agent, assistants, req, res, next));
  };
}

/**
 * The fake control plane: just enough of /api/v1 for the app and the e2e tests.
 * @param {import("../src/api/agent-types.ts").AgentAssistant[]} assistants
 * @param {string} method @param {string} path @param {string | undefined} body @param {DemoUser | null} user
 */
function controlPlane(assistants, method, path, body, user) {
  if (method === "GET" && path === "/api/v1/auth/csrf") {
    const token = randomUUID().replaceAll("-", "");
    return json({ csrf_token: token }, 200, { "Set-Cookie": `csrftoken=${token}; Path=/; SameSite=Lax` });
  }
  if (method === "POST" && path === "/api/v1/auth/login") {
    const credentials = JSON.parse(body ?? "{}");
    const found = users.find((candidate) => candidate.email === credentials.email);
    if (!found || credentials.password !== password) return json({ detail: "Invalid email or password.", code: "invalid_credentials" }, 400);
    const session = randomUUID();
    sessions.set(session, found);
    return json(me(found), 200, { "Set-Cookie": `sessionid=${session}; Path=/; HttpOnly; SameSite=Lax` });
  }
  if (!user) return json({ detail: "Authentication required.", code: "not_authenticated" }, 401);
  if (method === "POST" && path === "/api/v1/auth/logout") {
    return new Response(null, { status: 204, headers: { "Set-Cookie": "sessionid=; Path=/; Max-Age=0" } });
  }
  if (method === "GET" && path === "/api/v1/me") return json(me(user));
  if (path === "/api/v1/orgs/demo/assistants" && method === "GET") {
    return json(assistants.map((a) => ({ id: a.assistant_id, graph_id: a.graph_id, name: a.name, description: a.description ?? null, version: 1, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", config: a.config ?? {}, context: a.context ?? {}, metadata: a.metadata ?? {} })));
  }
  if (path === "/api/v1/orgs/demo/assistants" && method === "POST") {
    if (user.role === "viewer") return json({ detail: "Not allowed.", code: "permission_denied" }, 403);
    const input = JSON.parse(body ?? "{}");
    const created = { assistant_id: randomUUID(), graph_id: input.graph_id, name: input.name ?? "Untitled", description: input.description ?? null, context: input.context ?? {}, config: input.config ?? {}, metadata: input.metadata ?? {} };
    assistants.push(created);
    return json({ ...created, id: created.assistant_id, version: 1, created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
  }
  return json({ detail: "Not found.", code: "not_found" }, 404);
}

/**
 * @param {import("../src/test/fake-agent/server.ts").FakeAgent} agent
 * @param {import("../src/api/agent-types.ts").AgentAssistant[]} assistants
 * @param {import("node:http").IncomingMessage} req
 * @param {import("node:http").ServerResponse} res
 * @param {() => void} next
 */
function handle(agent, assistants, req, res, next) {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const method = (req.method ?? "GET").toUpperCase();
  const isApi = url.pathname.startsWith("/api/");
  const isAgent = url.pathname === "/agent" || url.pathname.startsWith("/agent/");
  if (url.pathname.startsWith("/admin")) {
    res.setHeader("Content-Type", "text/html");
    res.end("<!doctype html><title>Admin</title><h1>Admin (stand-in)</h1>");
    return;
  }
  if (!isApi && !isAgent) {
    next();
    return;
  }
  const session = cookie(req.headers.cookie, "sessionid");
  const user = session ? (sessions.get(session) ?? null) : null;
  const unsafe = !["GET", "HEAD", "OPTIONS"].includes(method);
  const csrfOk = !unsafe || url.pathname === "/api/v1/auth/csrf" || req.headers["x-csrftoken"] === cookie(req.headers.cookie, "csrftoken");
  const abort = new AbortController();
  res.on("close", () => {
    abort.abort();
  });
  void (async () => {
    const body = await readBody(req);
    if (!csrfOk) return send(res, json({ detail: "CSRF check failed.", code: "csrf_failed" }, 403));
    if (isApi) return send(res, controlPlane(assistants, method, url.pathname, body, user));
    if (user?.role === "viewer" && url.pathname.endsWith("/commands")) return send(res, json({ detail: "Viewers cannot run assistants." }, 403));
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(key, value);
    const response = await agent.handle({
      method,
      path: `${url.pathname.slice("/agent".length)}${url.search}`,
      headers,
      body,
      signal: abort.signal,
      user: user ? { id: String(user.id), email: user.email } : null,
    });
    return send(res, response);
  })().catch((error) => {
    console.error(error);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
}

async function main() {
  const vite = await createServer({
    root,
    configFile: false,
    logLevel: "warn",
    server: { host: "127.0.0.1", port, strictPort: true },
    plugins: [
      react(),
      {
        name: "atrium-contract-backend",
        // Registered before Vite's own middlewares, so /agent and /api never fall back to index.html.
        configureServer(server) {
          server.middlewares.use(backendMiddleware(server));
        },
      },
    ],
  });
  await vite.listen();
  console.log(`contract server on http://127.0.0.1:${port} (fake control plane and Agent Server)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
