// @vitest-environment node
// The committed TypeScript schema must be exactly what gen:api makes of the committed
// openapi.json (no Python needed); where VTM's Python is installed, openapi.json must also be
// what the server describes today (the same check as `npm run check:api`).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  HEADER_TEXT,
  OPENAPI_PATH,
  SCHEMA_PATH,
  dumpOpenApi,
  findPython,
  renderOpenApiJson,
  renderSchemaTs,
} from "./openapi-gen.mjs";

describe("generated API files", () => {
  const doc = JSON.parse(readFileSync(OPENAPI_PATH, "utf8"));

  it("carry the generated header", () => {
    expect(doc["x-generated"]).toBe(HEADER_TEXT);
    expect(readFileSync(SCHEMA_PATH, "utf8").startsWith(`// ${HEADER_TEXT}`)).toBe(true);
  });

  it("openapi.json is written the way gen:api writes it", () => {
    expect(readFileSync(OPENAPI_PATH, "utf8")).toBe(renderOpenApiJson(doc));
  });

  it("src/api/schema.d.ts is the generation of openapi.json", async () => {
    expect(readFileSync(SCHEMA_PATH, "utf8")).toBe(await renderSchemaTs(doc));
  });

  it.skipIf(findPython() === null)(
    "openapi.json matches the server's OpenAPI (else run npm run gen:api)",
    () => {
      expect(readFileSync(OPENAPI_PATH, "utf8")).toBe(renderOpenApiJson(dumpOpenApi()));
    },
    30_000,
  );
});
