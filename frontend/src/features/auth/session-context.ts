import { createContext, useContext } from "react";
import type { ApiError } from "../../api/errors";
import type { LoginIn, Me } from "../../api/types";

export type Session =
  | { status: "loading" }
  /** `signed_out` when the user pressed "Log out", so we don't offer to bring them back. */
  | { status: "anonymous"; reason: "unauthenticated" | "signed_out" }
  | { status: "authenticated"; me: Me }
  | { status: "error"; error: ApiError };

export interface SessionValue {
  session: Session;
  signIn: (credentials: LoginIn) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession must be used inside <SessionProvider>.");
  return value;
}

/** The signed-in user, for screens that only render behind <RequireSession>. */
export function useMe(): Me {
  const { session } = useSession();
  if (session.status !== "authenticated") throw new Error("useMe needs a signed-in session.");
  return session.me;
}
