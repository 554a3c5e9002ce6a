import { useId, useRef, useState, type KeyboardEvent } from "react";
import { Button } from "../../components/ui/button";

interface ComposerProps {
  isLoading: boolean;
  /** Why sending is not possible right now (e.g. an approval is pending), or null. */
  blockedReason: string | null;
  placeholder: string;
  onSend: (text: string, files: File[]) => void;
  onStop: () => void;
}

/** What the attach button offers; the server decides (ATRIUM_UPLOAD_*_TYPES) and says why it refuses. */
const ACCEPT = ".md,.txt,.csv,.tsv,.json,.yaml,.yml,.pdf,.png,.jpg,.jpeg";

/**
 * The message box: Enter sends, Shift+Enter starts a new line; Stop replaces Send during a run.
 * Files attached with the paperclip go with the next message (the agent reads them in /uploads/).
 */
export function Composer({ isLoading, blockedReason, placeholder, onSend, onStop }: ComposerProps) {
  const id = useId();
  const hintId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const trimmed = text.trim();
  const canSend = trimmed !== "" && !isLoading && blockedReason === null;

  function submit() {
    if (!canSend) return;
    onSend(trimmed, files);
    setText("");
    setFiles([]);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label className="visually-hidden" htmlFor={id}>
        Message
      </label>
      <textarea
        id={id}
        className="composer__input"
        rows={Math.min(6, Math.max(1, text.split("\n").length))}
        placeholder={placeholder}
        value={text}
        aria-describedby={hintId}
        onChange={(event) => {
          setText(event.target.value);
        }}
        onKeyDown={onKeyDown}
      />
      <input
        ref={fileInput}
        type="file"
        multiple
        accept={ACCEPT}
        className="visually-hidden"
        aria-label="Attach files"
        data-testid="attach-input"
        onChange={(event) => {
          const chosen = [...(event.target.files ?? [])];
          setFiles((previous) => [...previous.filter((file) => !chosen.some((c) => c.name === file.name)), ...chosen]);
          event.target.value = "";
        }}
      />
      <div className="composer__attachments">
        <Button
          variant="ghost"
          disabled={isLoading || blockedReason !== null}
          onClick={() => {
            fileInput.current?.click();
          }}
        >
          Attach
        </Button>
        {files.length > 0 ? (
          <ul className="composer__files" aria-label="Attached files">
            {files.map((file) => (
              <li key={file.name} className="composer__file">
                {file.name}{" "}
                <button
                  type="button"
                  className="link-button"
                  aria-label={`Remove ${file.name}`}
                  onClick={() => {
                    setFiles((previous) => previous.filter((kept) => kept !== file));
                  }}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <p id={hintId} className="composer__hint">
        {blockedReason ?? "Enter to send, Shift+Enter for a new line."}
      </p>
      {isLoading ? (
        <Button variant="secondary" className="composer__button" onClick={onStop}>
          Stop
        </Button>
      ) : (
        <Button type="submit" variant="primary" className="composer__button" disabled={!canSend}>
          Send
        </Button>
      )}
    </form>
  );
}
