// The JS conformance rows against a live Atrium: `node conformance.mjs` with ATRIUM_URL (the Agent
// Server API root) and LANGGRAPH_API_KEY. Prints one line per row, then `N passed, N failed`; exits
// non-zero when a row fails. ATRIUM_JS_ROWS=J3,C7 runs only the rows whose names start so.
import { summary } from "./lib.mjs"; // first: it sets up the DOM globals and the logging fetch

const { classicRows } = await import("./classic.mjs");
const { v2Rows } = await import("./v2.mjs");

await classicRows();
await v2Rows();
const failed = summary();
process.exit(failed ? 1 : 0);
