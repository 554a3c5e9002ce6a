import { listSsoProviders } from "../../api/auth";
import { useApiQuery } from "../../api/use-api-query";

/**
 * "Sign in with <provider>" links for the deployment's single sign-on providers. A full-page
 * navigation, not a fetch: the provider's pages take over, then the server's callback signs the
 * browser in and sends it to `next`. Nothing shows while loading or when no provider is configured.
 */
export function SsoButtons({ next }: { next: string }) {
  const providers = useApiQuery("sso-providers", listSsoProviders);
  if (providers.status !== "success" || providers.data.length === 0) return null;
  return (
    <div className="login__sso" aria-label="Single sign-on">
      <p className="login__divider">or</p>
      {providers.data.map((provider) => (
        <a
          key={provider.slug}
          className="button button--secondary login__sso-link"
          href={`${provider.login_url}?next=${encodeURIComponent(next)}`}
        >
          Sign in with {provider.name}
        </a>
      ))}
    </div>
  );
}
