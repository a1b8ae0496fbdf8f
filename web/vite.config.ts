/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

// The VTM server the dev and preview servers forward /api to (`vtm serve` listens on 8000).
const api = process.env.VTM_API_URL ?? "http://127.0.0.1:8000";
const proxy: Record<string, ProxyOptions> = {
  "/api": {
    target: api,
    configure(server) {
      // When the VTM server dies mid-stream the proxy would keep the browser's side of the
      // event stream open, silent; closing it lets EventSource notice and reconnect.
      server.on("proxyRes", (upstream, _request, response) => {
        upstream.on("close", () => {
          if (!response.writableEnded) response.destroy();
        });
      });
    },
  },
};

export default defineConfig({
  plugins: [react()],
  build: {
    // The Python package serves this folder at `/` (index.html, assets under /assets/).
    outDir: "../src/vtm/web",
    emptyOutDir: true,
    assetsDir: "assets",
  },
  server: { proxy },
  preview: { proxy },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}", "scripts/**/*.test.mjs"],
    restoreMocks: true,
    unstubGlobals: true,
    // One jsdom per worker instead of one per file: setting it up was three quarters of the
    // run's CPU. After each test what it rendered is unmounted and the local storage emptied
    // (src/test/setup.ts), mocks and stubbed globals are restored, and every render makes its
    // own QueryClient (src/test/fixtures.tsx).
    isolate: false,
    // `make test` runs these beside the Python suite on two cores: a test may take several
    // times its quiet-machine time there. The limit catches a hang, not slowness.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
