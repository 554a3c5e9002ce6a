import { useId, useState } from "react";
import { Button } from "../../components/ui/button";
import { approve, edit, parseEditedArgs, reject, type ActionRequest, type Decision } from "../../lib/hitl";

interface HitlActionProps {
  action: ActionRequest;
  decision: Decision | undefined;
  disabled: boolean;
  onDecide: (decision: Decision) => void;
}

type Mode = "choose" | "edit" | "reject";

const DECIDED: Record<Decision["type"], string> = { approve: "Approved", edit: "Edited and approved", reject: "Rejected" };

/** One action the agent wants to take, with the answers its review config allows. */
export function HitlAction({ action, decision, disabled, onDecide }: HitlActionProps) {
  const argsId = useId();
  const reasonId = useId();
  const errorId = useId();
  const [mode, setMode] = useState<Mode>("choose");
  const [argsText, setArgsText] = useState(() => JSON.stringify(action.args, null, 2));
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const allows = (type: Decision["type"]) => action.allowed.includes(type);

  return (
    <li className="hitl-action" data-testid="hitl-action">
      <p className="hitl-action__name">
        <code>{action.name}</code>
      </p>
      {action.description ? <p className="hitl-action__description">{action.description}</p> : null}
      <pre className="code-block">{JSON.stringify(action.args, null, 2)}</pre>
      {decision ? <p className="hitl-action__decided">{DECIDED[decision.type]}</p> : null}

      {mode === "choose" && !decision ? (
        <div className="hitl-action__buttons">
          {allows("approve") ? (
            <Button variant="primary" disabled={disabled} onClick={() => { onDecide(approve()); }}>
              Approve
            </Button>
          ) : null}
          {allows("edit") ? (
            <Button disabled={disabled} onClick={() => { setMode("edit"); }}>
              Edit
            </Button>
          ) : null}
          {allows("reject") ? (
            <Button disabled={disabled} onClick={() => { setMode("reject"); }}>
              Reject
            </Button>
          ) : null}
        </div>
      ) : null}

      {mode === "edit" && !decision ? (
        <form
          className="stack-sm"
          onSubmit={(event) => {
            event.preventDefault();
            const parsed = parseEditedArgs(argsText);
            if (!parsed.ok) {
              setError(parsed.error);
              return;
            }
            setError(null);
            onDecide(edit(action, parsed.args));
          }}
        >
          <label className="field__label" htmlFor={argsId}>
            Arguments (JSON)
          </label>
          <textarea
            id={argsId}
            className="field__input code-input"
            rows={Math.min(12, argsText.split("\n").length + 1)}
            value={argsText}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            onChange={(event) => { setArgsText(event.target.value); }}
          />
          {error ? <p id={errorId} className="field__error">{error}</p> : null}
          <div className="hitl-action__buttons">
            <Button variant="ghost" onClick={() => { setMode("choose"); setError(null); }}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" disabled={disabled}>
              Approve with changes
            </Button>
          </div>
        </form>
      ) : null}

      {mode === "reject" && !decision ? (
        <form
          className="stack-sm"
          onSubmit={(event) => {
            event.preventDefault();
            onDecide(reject(reason));
          }}
        >
          <label className="field__label" htmlFor={reasonId}>
            Why not? (optional, the agent reads this)
          </label>
          <input id={reasonId} className="field__input" value={reason} onChange={(event) => { setReason(event.target.value); }} />
          <div className="hitl-action__buttons">
            <Button variant="ghost" onClick={() => { setMode("choose"); }}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" disabled={disabled}>
              Reject
            </Button>
          </div>
        </form>
      ) : null}
    </li>
  );
}
