import type { RouteObject } from "react-router";
import { NotFound } from "../components/ui/not-found";
import { AssistantsPage } from "../features/assistants/assistants-page";
import { LoginPage } from "../features/auth/login-page";
import { RequireSession } from "../features/auth/require-session";
import { HomeRedirect } from "../features/orgs/home-redirect";
import { OrgLayout } from "../features/orgs/org-layout";
import { RouteErrorPage } from "./route-error-page";

/**
 * The URL is the app's state: `/o/:slug` picks the organisation, and the chat will add
 * `/o/:slug/assistants/:assistantId/threads/:threadId` beneath it, inside the same OrgLayout.
 */
export const routes: RouteObject[] = [
  {
    errorElement: <RouteErrorPage />,
    children: [
      { path: "/login", element: <LoginPage /> },
      {
        element: <RequireSession />,
        children: [
          { index: true, element: <HomeRedirect /> },
          {
            path: "/o/:slug",
            element: <OrgLayout />,
            children: [{ index: true, element: <AssistantsPage /> }],
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
