import { useState } from "react";
import { toApiError } from "../../api/errors";
import { fetchThreadFile, listThreadFiles } from "../../api/thread-files";
import { useApiQuery } from "../../api/use-api-query";
import { Alert } from "../../components/ui/alert";
import { agentFileBlob, agentFileSize, type AgentFile } from "../../lib/agent-files";
import { formatBytes } from "../../lib/format-bytes";

interface FilesPanelProps {
  orgSlug: string;
  threadId: string | null;
  /** Files the agent keeps in the thread's state, live from the stream. */
  agentFiles: AgentFile[];
  /** Bumped after every run (and upload): the list of attached files is read again. */
  runVersion: number;
}

function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 0);
}

/**
 * The thread's files: those the user attached (read by the agent under `/uploads/`) and those the
 * agent wrote. Sandbox files are listed by `ArtifactsPanel`. Downloads go through the session (the
 * Agent API needs the org header, which a plain link cannot send) or, for the agent's own files, come
 * from the streamed state. Nothing is shown while there are none.
 */
export function FilesPanel({ orgSlug, threadId, agentFiles, runVersion }: FilesPanelProps) {
  const [error, setError] = useState<string | null>(null);
  const key = threadId ? `files/${orgSlug}/${threadId}/${runVersion.toString()}` : null;
  const attached = useApiQuery(key, (signal) => listThreadFiles(orgSlug, threadId ?? "", signal), { keepDataOnReload: true });
  const uploads = attached.status === "success" ? attached.data : [];
  if (threadId === null || (uploads.length === 0 && agentFiles.length === 0)) return null;

  function download(name: string) {
    setError(null);
    fetchThreadFile(orgSlug, threadId ?? "", name).then(
      (blob) => {
        saveBlob(blob, name);
      },
      (reason: unknown) => {
        setError(toApiError(reason).message);
      },
    );
  }

  return (
    <section className="artifacts" aria-labelledby="thread-files-title">
      <h3 id="thread-files-title" className="artifacts__title">
        Files in this conversation
      </h3>
      <ul className="artifacts__list" aria-label="Files in this conversation">
        {uploads.map((file) => (
          <li key={file.path} className="artifacts__item" data-testid="thread-file" data-origin="attached">
            <button type="button" className="link-button" onClick={() => { download(file.name); }}>
              {file.path}
            </button>{" "}
            <span className="muted">attached · {formatBytes(file.size)}</span>
          </li>
        ))}
        {agentFiles.map((file) => (
          <li key={file.path} className="artifacts__item" data-testid="thread-file" data-origin="agent">
            <button type="button" className="link-button" onClick={() => { saveBlob(agentFileBlob(file), file.path.split("/").pop() ?? "file"); }}>
              {file.path}
            </button>{" "}
            <span className="muted">by the agent · {formatBytes(agentFileSize(file))}</span>
          </li>
        ))}
      </ul>
      {error ? <Alert>{error}</Alert> : null}
    </section>
  );
}
