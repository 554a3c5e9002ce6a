import { api, send } from "./client";
import type { LoginIn, Me, SsoProvider } from "./types";

export function fetchMe(signal?: AbortSignal): Promise<Me> {
  return api.get<Me>("/api/v1/me", signal);
}

export function login(credentials: LoginIn): Promise<Me> {
  return api.post<Me>("/api/v1/auth/login", credentials);
}

export function logout(): Promise<void> {
  return send("/api/v1/auth/logout", { method: "POST" });
}

export function listSsoProviders(signal?: AbortSignal): Promise<SsoProvider[]> {
  return api.get<SsoProvider[]>("/api/v1/auth/oidc/providers", signal);
}
