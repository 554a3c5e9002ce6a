// Agent auth in the browser: an agent that needs the user's account at an outside service shows a
// "Connect <provider>" card whose link starts the consent (authorization code + PKCE) at the provider.
import { ORG, RUN_TIMEOUT_MS, openNewChat, screenshot, send } from "../chat-support.mjs";
import { assert, config, demoUsers, url } from "../support.mjs";

const PROVIDER = { slug: "e2e-crm", name: "E2E CRM", authorize_url: "https://crm.example.test/authorize", token_url: "https://crm.example.test/token", client_id: "e2e-client", default_scopes: ["read"], api_base_urls: ["https://crm.example.test/api"] };
const ASSISTANT = {
  name: "E2E connected CRM",
  graph_id: "agent",
  context: { model: "offline", connected_apis: [{ name: "crm", provider: PROVIDER.slug, base_url: "https://crm.example.test/api", scopes: "read" }] },
};

/** @param {import("playwright-core").Page} page */
async function ensureProvider(page) {
  const listUrl = url(`/api/v1/orgs/${ORG}/oauth-providers`);
  const listed = await page.request.get(listUrl);
  assert.equal(listed.status(), 200, `GET ${listUrl}`);
  const cookies = await page.context().cookies(config.baseUrl);
  const headers = { "X-CSRFToken": cookies.find((cookie) => cookie.name === "csrftoken")?.value ?? "" };
  const found = (/** @type {{ id: string, slug: string }[]} */ (await listed.json())).find((p) => p.slug === PROVIDER.slug);
  // The admin approves the API's base URL for the provider's tokens before the assistant names it.
  const saved = found
    ? await page.request.patch(`${listUrl}/${found.id}`, { data: { api_base_urls: PROVIDER.api_base_urls }, headers })
    : await page.request.post(listUrl, { data: PROVIDER, headers });
  assert.equal(saved.status(), 200, `save ${listUrl}: ${await saved.text()}`);
}

/** @type {import("../run.mjs").E2ETest[]} */
export const tests = [
  {
    name: "connections: an agent that needs the user's CRM account shows a Connect card leading to the provider's consent",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.admin, ASSISTANT, ensureProvider);

      await send(page, 'call call_connected_api {"api": "crm", "path": "/deals"}');

      const card = page.getByTestId("interrupt");
      await card.waitFor({ timeout: RUN_TIMEOUT_MS });
      await card.getByRole("heading", { name: `Connect ${PROVIDER.name}` }).waitFor();
      const link = card.getByRole("link", { name: `Connect ${PROVIDER.name}` });
      const href = new URL((await link.getAttribute("href")) ?? "");
      await screenshot(page, "connect-card");
      assert.equal(`${href.origin}${href.pathname}`, PROVIDER.authorize_url, "the link goes to the provider");
      assert.equal(href.searchParams.get("client_id"), PROVIDER.client_id);
      assert.equal(href.searchParams.get("code_challenge_method"), "S256", "PKCE");
      assert.ok(href.searchParams.get("state"), "a state");
      assert.ok(href.searchParams.get("redirect_uri")?.endsWith("/callback"), "back to Atrium's callback");

      await page.goto(url(`/o/${ORG}/connections`));
      await page.getByText("No connections").waitFor();
    },
  },
];
