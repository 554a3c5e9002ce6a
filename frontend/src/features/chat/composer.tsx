import { useId, useState, type KeyboardEvent } from "react";
import { Button } from "../../components/ui/button";

interface ComposerProps {
  isLoading: boolean;
  /** Why sending is not possible right now (e.g. an approval is pending), or null. */
  blockedReason: string | null;
  placeholder: string;
  onSend: (text: string) => void;
  onStop: () => void;
}

/** The message box: Enter sends, Shift+Enter starts a new line; Stop replaces Send during a run. */
export function Composer({ isLoading, blockedReason, placeholder, onSend, onStop }: ComposerProps) {
  const id = useId();
  const hintId = useId();
  const [text, setText] = useState("");
  const trimmed = text.trim();
  const canSend = trimmed !== "" && !isLoading && blockedReason === null;

  function submit() {
    if (!canSend) return;
    onSend(trimmed);
    setText("");
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
