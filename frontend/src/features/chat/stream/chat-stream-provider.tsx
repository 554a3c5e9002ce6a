import { useState, type ReactNode } from "react";
import { AdapterStreamProvider } from "./adapter";
import type { ChatStreamProps } from "./chat-stream";

/**
 * Provides the `ChatStream` for one thread to everything below it. "Reload" remounts the adapter
 * (a fresh hydrate that rejoins any active run), which is how a lost stream is recovered.
 */
export function ChatStreamProvider({ children, ...props }: ChatStreamProps & { children: ReactNode }) {
  const [generation, setGeneration] = useState(0);
  return (
    <AdapterStreamProvider
      key={generation}
      {...props}
      onReload={() => {
        setGeneration((n) => n + 1);
      }}
    >
      {children}
    </AdapterStreamProvider>
  );
}
