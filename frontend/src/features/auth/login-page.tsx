import { useState, type SubmitEvent } from "react";
import { Navigate, useSearchParams } from "react-router";
import { toApiError } from "../../api/errors";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { TextField } from "../../components/ui/text-field";
import { safeNextPath } from "../../lib/safe-next-path";
import { useSession } from "./session-context";
import { SsoButtons } from "./sso-buttons";

export function LoginPage() {
  const { session, signIn } = useSession();
  const [searchParams] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  if (session.status === "authenticated") {
    return <Navigate to={safeNextPath(searchParams.get("next"))} replace />;
  }

  async function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await signIn({ email: email.trim(), password });
    } catch (caught) {
      setError(toApiError(caught).message);
      setPassword("");
    } finally {
      setPending(false);
    }
  }

  const signedOut = session.status === "anonymous" && session.reason === "signed_out";
  // Set by the single sign-on callback when the provider's answer did not sign anyone in.
  const ssoError = searchParams.get("sso_error");

  return (
    <main className="login">
      <div className="login__card">
        <p className="brand login__brand">Atrium</p>
        <h1 className="login__title">Sign in</h1>
        {signedOut && !error ? <Alert tone="info">You have been logged out.</Alert> : null}
        {error ? <Alert>{error}</Alert> : null}
        {ssoError && !error ? <Alert>{ssoError}</Alert> : null}
        <form
          className="login__form"
          onSubmit={(event) => {
            void submit(event);
          }}
        >
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="username"
            required
            autoFocus
            value={email}
            onChange={(event) => {
              setEmail(event.target.value);
            }}
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => {
              setPassword(event.target.value);
            }}
          />
          <Button type="submit" variant="primary" disabled={pending}>
            {pending ? "Signing in…" : "Sign in"}
          </Button>
        </form>
        <SsoButtons next={safeNextPath(searchParams.get("next"))} />
      </div>
    </main>
  );
}
