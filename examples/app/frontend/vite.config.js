// Builds the frontend into dist/ for fairlead's static route. Next to each compressible asset it
// writes NAME.br and NAME.gz, which fairlead serves to clients that accept them (it never
// compresses on the fly). `npm run dev` runs Vite's dev server, proxying the API to fairlead.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const compressible = /\.(html|js|css|svg|json|txt)$/;

function precompress() {
  return {
    name: "precompress",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const [fileName, item] of Object.entries(bundle)) {
        if (!compressible.test(fileName)) continue;
        const source = Buffer.from(item.type === "chunk" ? item.code : item.source);
        if (source.length < 1024) continue;  // a 304 costs more than these bytes
        this.emitFile({ type: "asset", fileName: `${fileName}.gz`, source: gzipSync(source, { level: 9 }) });
        this.emitFile({
          type: "asset",
          fileName: `${fileName}.br`,
          source: brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    // Node does not read the system's trust store, so the development certificate is not checked
    // on this hop (it is the machine's own loopback).
    proxy: {
      "/api": { target: "https://localhost:8443", secure: false },
      "/ws": { target: "wss://localhost:8443", ws: true, secure: false },
    },
  },
});
