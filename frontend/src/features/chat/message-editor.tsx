import { useId, useState } from "react";
import { Button } from "../../components/ui/button";

interface MessageEditorProps {
  initialText: string;
  onSave: (text: string) => void;
  onCancel: () => void;
}

/** Edits a sent message in place; saving starts a new branch from just before it. */
export function MessageEditor({ initialText, onSave, onCancel }: MessageEditorProps) {
  const id = useId();
  const [text, setText] = useState(initialText);
  const trimmed = text.trim();
  return (
    <form
      className="message-editor"
      onSubmit={(event) => {
        event.preventDefault();
        if (trimmed) onSave(trimmed);
      }}
    >
      <label className="visually-hidden" htmlFor={id}>
        Edit your message
      </label>
      <textarea
        id={id}
        className="field__input message-editor__input"
        value={text}
        rows={Math.min(8, Math.max(2, text.split("\n").length))}
        autoFocus
        onChange={(event) => {
          setText(event.target.value);
        }}
        onKeyDown={(event) => {
          if (event.key === "Escape") onCancel();
        }}
      />
      <div className="message-editor__actions">
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" disabled={!trimmed || trimmed === initialText.trim()}>
          Save and send
        </Button>
      </div>
    </form>
  );
}
