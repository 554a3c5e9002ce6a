/**
 * The one switch between streaming runtimes. Each adapter module exports the same two things: a
 * provider that fills `ChatStreamContext` (given `ChatStreamProps`, `onReload` and children), and
 * `useSubagentMessages`. To move to another hook (e.g. `useStream` of
 * `@langchain/langgraph-sdk/react`), write its adapter next to this one and change these lines.
 */
export { AdapterStreamProvider } from "./langchain-react-adapter";
export { useSubagentMessages } from "./langchain-react-hooks";
