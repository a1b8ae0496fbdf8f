#!/usr/bin/env node
// npm run gen:api      -> web/openapi.json and src/api/schema.d.ts from the Python app's OpenAPI
// npm run check:api    -> exit 1 when the committed files differ from a fresh generation
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import {
  OPENAPI_PATH,
  SCHEMA_PATH,
  WEB_DIR,
  dumpOpenApi,
  readCommitted,
  renderOpenApiJson,
  renderSchemaTs,
} from "./openapi-gen.mjs";

const check = process.argv.includes("--check");

const doc = dumpOpenApi();
const outputs = [
  [OPENAPI_PATH, renderOpenApiJson(doc)],
  [SCHEMA_PATH, await renderSchemaTs(doc)],
];

let stale = 0;
for (const [path, text] of outputs) {
  const name = relative(WEB_DIR, path);
  if (readCommitted(path) === text) {
    console.log(`${name}: up to date`);
  } else if (check) {
    stale += 1;
    console.error(`${name}: differs from the server's OpenAPI`);
  } else {
    writeFileSync(path, text);
    console.log(`${name}: written`);
  }
}
if (stale) {
  console.error("run `npm run gen:api` in web/ and commit the result");
  process.exit(1);
}
