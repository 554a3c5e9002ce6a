import { listAssistants } from "../../api/assistants";
import { useApiQuery } from "../../api/use-api-query";

export function useAssistants(orgSlug: string) {
  return useApiQuery(`assistants:${orgSlug}`, (signal) => listAssistants(orgSlug, signal));
}
