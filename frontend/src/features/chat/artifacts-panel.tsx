import { artifactUrl, listArtifacts } from "../../api/artifacts";
import { useApiQuery } from "../../api/use-api-query";
import { formatBytes } from "../../lib/format-bytes";

interface ArtifactsPanelProps {
  orgSlug: string;
  threadId: string | null;
  /** Bumped after every run: the agent may have produced files since the last look. */
  runVersion: number;
}

/**
 * Download links for the files the agent left in the conversation's sandbox (reports, plots).
 * Nothing is shown while there are none, or when the list cannot be read: it is an extra, and the
 * conversation must not look broken because of it.
 */
export function ArtifactsPanel({ orgSlug, threadId, runVersion }: ArtifactsPanelProps) {
  const key = threadId ? `${orgSlug}/${threadId}/${runVersion.toString()}` : null;
  const artifacts = useApiQuery(key, (signal) => listArtifacts(orgSlug, threadId ?? "", signal), { keepDataOnReload: true });
  if (threadId === null || artifacts.status !== "success" || artifacts.data.length === 0) return null;

  return (
    <section className="artifacts" aria-labelledby="artifacts-title">
      <h3 id="artifacts-title" className="artifacts__title">
        Files from this conversation
      </h3>
      <ul className="artifacts__list" aria-label="Files from this conversation">
        {artifacts.data.map((artifact) => (
          <li key={artifact.path} className="artifacts__item" data-testid="artifact">
            <a href={artifactUrl(orgSlug, threadId, artifact.path)} download={artifact.path.split("/").pop()}>
              {artifact.path}
            </a>{" "}
            <span className="muted">{formatBytes(artifact.size)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
