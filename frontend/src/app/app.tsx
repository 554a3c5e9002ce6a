import { createBrowserRouter } from "react-router";
import { RouterProvider } from "react-router/dom";
import { SessionProvider } from "../features/auth/session-provider";
import { routes } from "./routes";

const router = createBrowserRouter(routes);

export function App() {
  return (
    <SessionProvider>
      <RouterProvider router={router} />
    </SessionProvider>
  );
}
