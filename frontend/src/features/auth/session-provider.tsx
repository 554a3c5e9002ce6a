import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { fetchMe, login, logout } from "../../api/auth";
import { isAbortError, toApiError } from "../../api/errors";
import type { LoginIn } from "../../api/types";
import { SessionContext, type Session, type SessionValue } from "./session-context";

/**
 * Owns who is signed in. The session cookie is the source of truth: on load we ask `/me`, and a
 * 401 there simply means "anonymous". Sign-in and sign-out errors are rethrown for the form or
 * button that started them to show.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    fetchMe(controller.signal).then(
      (me) => {
        setSession({ status: "authenticated", me });
      },
      (error: unknown) => {
        if (isAbortError(error)) return;
        const apiError = toApiError(error);
        setSession(
          apiError.status === 401 ? { status: "anonymous", reason: "unauthenticated" } : { status: "error", error: apiError },
        );
      },
    );
    return () => {
      controller.abort();
    };
  }, [attempt]);

  const signIn = useCallback(async (credentials: LoginIn) => {
    const me = await login(credentials);
    setSession({ status: "authenticated", me });
  }, []);

  const signOut = useCallback(async () => {
    await logout();
    setSession({ status: "anonymous", reason: "signed_out" });
  }, []);

  const retry = useCallback(() => {
    setSession({ status: "loading" });
    setAttempt((n) => n + 1);
  }, []);

  const value = useMemo<SessionValue>(() => ({ session, signIn, signOut, retry }), [session, signIn, signOut, retry]);
  return <SessionContext value={value}>{children}</SessionContext>;
}
