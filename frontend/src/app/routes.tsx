import type { RouteObject } from "react-router";
import { Loading } from "../components/ui/loading";
import { NotFound } from "../components/ui/not-found";
import { AssistantSettingsPage } from "../features/assistant-settings/assistant-settings-page";
import { AssistantsPage } from "../features/assistants/assistants-page";
import { ConnectionsPage } from "../features/connections/connections-page";
import { LoginPage } from "../features/auth/login-page";
import { MemoryPage } from "../features/memory/memory-page";
import { RequireSession } from "../features/auth/require-session";
import { HomeRedirect } from "../features/orgs/home-redirect";
import { OrgLayout } from "../features/orgs/org-layout";
import { PolicyPage } from "../features/policy/policy-page";
import { SkillsPage } from "../features/skills/skills-page";
import { UsagePage } from "../features/usage/usage-page";
import { RouteErrorPage } from "./route-error-page";

/**
 * The URL is the app's state: `/o/:slug` picks the organisation; beneath it `/chat` starts a
 * conversation (`?assistant=<id>`), `/t/:threadId` opens one, `/memory` shows the user's notes,
 * `/usage` shows model usage and budgets, `/assistants/:id/settings` configures an assistant, `/skills` holds the org's skills (builders) and
 * `/policy` the org's policy.
 * The two chat paths share one layout element, so a new chat keeps its stream when it gets an id.
 */
export const routes: RouteObject[] = [
  {
    errorElement: <RouteErrorPage />,
    hydrateFallbackElement: (
      <main className="page-center">
        <Loading />
      </main>
    ),
    children: [
      { path: "/login", element: <LoginPage /> },
      {
        element: <RequireSession />,
        children: [
          { index: true, element: <HomeRedirect /> },
          {
            path: "/o/:slug",
            element: <OrgLayout />,
            children: [
              { index: true, element: <AssistantsPage /> },
              {
                // The chat carries the streaming runtime and the Markdown renderer: its own chunk.
                lazy: async () => ({ Component: (await import("../features/chat/chat-layout")).ChatLayout }),
                children: [
                  { path: "chat", element: null },
                  { path: "t/:threadId", element: null },
                ],
              },
              { path: "memory", element: <MemoryPage /> },
              { path: "connections", element: <ConnectionsPage /> },
              { path: "usage", element: <UsagePage /> },
              { path: "assistants/:assistantId/settings", element: <AssistantSettingsPage /> },
              { path: "skills", element: <SkillsPage /> },
              { path: "policy", element: <PolicyPage /> },
            ],
          },
        ],
      },
      {
        path: "*",
        element: (
          <main className="page-center">
            <NotFound />
          </main>
        ),
      },
    ],
  },
];
