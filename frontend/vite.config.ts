/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dev server forwards everything the control plane owns, so the browser sees one origin and
// the session and CSRF cookies behave exactly as they do behind the real deployment.
const backend = `http://127.0.0.1:${process.env.ATRIUM_PORT ?? "8000"}`;
const backendPaths = ["api", "agent", "admin", "static"];

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: true,
    // The chat's lazy chunk carries @langchain/core (message classes the streaming hook returns).
    chunkSizeWarningLimit: 800,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    // Keys starting with "^" are regular expressions; "/agent" must not swallow "/agents/...".
    proxy: Object.fromEntries(backendPaths.map((path) => [`^/${path}(/|$)`, { target: backend }])),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
    // Generous: a loaded CI machine renders slowly; a hung test still fails, just later.
    testTimeout: 30_000,
    unstubGlobals: true,
  },
});
