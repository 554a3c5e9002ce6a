// User paths through sign-in, the app shell and sign-out, against a running Atrium with the
// demo data loaded (admin@demo.local is an admin of its organisation, viewer@demo.local a viewer).
import {
  assert,
  config,
  demoUsers,
  expectAbsent,
  expectEventually,
  expectVisibleText,
  signIn,
  url,
  waitForAssistants,
  waitForOrgShell,
} from "../support.mjs";

/** @typedef {import("../run.mjs").E2ETest} E2ETest */

/** @type {E2ETest[]} */
export const tests = [
  {
    name: "admin signs in and sees their email, the admin role and the Admin link",
    async run({ page }) {
      await signIn(page, demoUsers.admin);
      await waitForOrgShell(page);

      await expectVisibleText(page.getByTestId("user-email"), demoUsers.admin, "header email");
      await expectVisibleText(page.getByTestId("role-badge"), "admin", "role badge");
      const adminLink = page.getByRole("link", { name: "Admin", exact: true });
      await adminLink.waitFor();
      assert.equal(await adminLink.getAttribute("href"), "/admin/");
      await waitForAssistants(page);
    },
  },
  {
    name: "viewer signs in and sees the viewer role and no Admin link",
    async run({ page }) {
      await signIn(page, demoUsers.viewer);
      await waitForOrgShell(page);

      await expectVisibleText(page.getByTestId("user-email"), demoUsers.viewer, "header email");
      await expectVisibleText(page.getByTestId("role-badge"), "viewer", "role badge");
      await expectAbsent(page.getByRole("link", { name: "Admin", exact: true }), "the Admin link");
      await waitForAssistants(page);
    },
  },
  {
    name: "a wrong password shows the error and stays on the login page",
    async run({ page }) {
      await signIn(page, demoUsers.admin, `${config.demoPassword}-wrong`);

      await expectEventually(() => page.getByRole("alert").textContent(), "Invalid email or password.", "error message");
      assert.equal(new URL(page.url()).pathname, "/login");
      assert.equal(await page.getByLabel("Email").inputValue(), demoUsers.admin);
    },
  },
  {
    name: "log out returns to the login page and ends the session",
    async run({ page }) {
      await signIn(page, demoUsers.admin);
      await waitForOrgShell(page);

      await page.getByRole("button", { name: "Log out" }).click();

      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      assert.equal(new URL(page.url()).pathname, "/login");
      const me = await page.request.get(url("/api/v1/me"));
      assert.equal(me.status(), 401);
    },
  },
  {
    name: "an unknown address shows the 404 page",
    async run({ page }) {
      await page.goto(url("/no/such/page"));

      await page.getByRole("heading", { name: "Page not found" }).waitFor();
    },
  },
  {
    name: "the app shell fits a 360px-wide screen",
    viewport: { width: 360, height: 740 },
    async run({ page }) {
      await signIn(page, demoUsers.viewer);
      await waitForOrgShell(page);
      await waitForAssistants(page);

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    },
  },
];
